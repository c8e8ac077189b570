import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tauPaths } from "../config/paths.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import { openStore, type Store } from "../store/mod.ts";
import { RunManager } from "./run_manager.ts";

function metadata(config: Record<string, unknown>) {
  const v = validatePipelineConfig(config);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return v.metadata as never;
}

async function withRuns(fn: (store: Store, runs: RunManager) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "tau_run_version_" });
  const store = await openStore({ path: `${home}/tau.db` });
  try {
    await fn(store, new RunManager({ store, paths: tauPaths(home), daemonPorts: [1] }));
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
}

Deno.test("a run of a candidate version records it and gets that version's permissions", async () => {
  await withRuns(async (store, runs) => {
    await store.deploy({
      name: "p",
      code: "v1",
      hash: "h1",
      filename: "p.ts",
      source_path: null,
      schedule: null,
      metadata: metadata({ name: "p" }),
    });
    await store.createVersion({
      name: "p",
      code: "v2",
      hash: "h2",
      filename: "p.ts",
      metadata: metadata({ name: "p", net: ["api.example.com:443"], retries: 2 }),
      source: "heal",
      parent: 1,
    });
    const replay = await runs.prepare("p", { version: 2, trigger: "heal" });
    assertEquals([replay.version, replay.trigger, replay.max_attempts], [2, "heal", 3]);
    const granted = replay.permissions as { net: string[]; flags: string[] };
    assertEquals(granted.net, ["api.example.com:443"]);
    assert.ok(granted.flags.some((f) => f.endsWith("/p/v2-h2/entry.ts")));

    const next = await runs.prepare("p");
    assertEquals(next.version, 1, "the current version is still v1");
    assertEquals((next.permissions as { net: string[] }).net, []);

    await assert.rejects(
      runs.prepare("p", { version: 9 }),
      (err: Error & { code?: string; hint?: string }) =>
        err.code === "not_found" && /tau versions p/.test(err.hint ?? ""),
    );
  });
});
