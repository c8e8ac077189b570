import { assertEquals } from "../../tests/helpers/assert.ts";
import { tauPaths } from "../config/paths.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import { openStore } from "../store/mod.ts";
import { RunManager } from "./run_manager.ts";

Deno.test("runs take [scheduler] retries where the pipeline declares none", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_defaults_" });
  const store = await openStore({ path: `${home}/tau.db` });
  try {
    for (const config of [{ name: "quiet" }, { name: "loud", retries: 1 }]) {
      const v = validatePipelineConfig(config);
      if (!v.ok) throw new Error("invalid");
      await store.deploy({
        name: config.name,
        code: config.name,
        hash: config.name,
        filename: "p.ts",
        source_path: null,
        schedule: null,
        metadata: v.metadata as never,
      });
    }
    const runs = new RunManager({
      store,
      paths: tauPaths(home),
      daemonPorts: [1],
      defaults: { retries: 4, retry_delay_ms: 10, timeout_ms: 1000 },
    });
    const quiet = await runs.prepare("quiet");
    const loud = await runs.prepare("loud");
    assertEquals([quiet.max_attempts, loud.max_attempts], [5, 2]);
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
});
