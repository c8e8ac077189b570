import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { tauPaths, versionDir } from "../config/paths.ts";
import { validatePipelineConfig } from "../metadata/schema.ts";
import { openStore } from "../store/mod.ts";
import { promoteVersion } from "./promote.ts";

function metadata(config: Record<string, unknown>) {
  const v = validatePipelineConfig(config);
  if (!v.ok) throw new Error(JSON.stringify(v.issues));
  return v.metadata as never;
}

Deno.test("promoting a candidate makes it current with its code files and schedule", async () => {
  const home = await Deno.makeTempDir({ prefix: "tau_promote_" });
  const store = await openStore({ path: `${home}/tau.db` });
  const paths = tauPaths(home);
  try {
    await store.deploy({
      name: "p",
      code: "export default 1;",
      hash: "h1",
      filename: "p.ts",
      source_path: null,
      schedule: null,
      metadata: metadata({ name: "p" }),
    });
    const candidate = await store.createVersion({
      name: "p",
      code: "export default 2;",
      hash: "h2",
      filename: "p.ts",
      metadata: metadata({ name: "p", schedule: "0 6 * * *" }),
      source: "heal",
      parent: 1,
      heal_id: "heal_1",
    });
    assertEquals(await store.getSchedule("p"), null);

    const promoted = await promoteVersion(store, paths, "p", candidate.version);
    assertEquals(promoted.current_version, 2);
    assertEquals((await store.getSchedule("p"))?.cron, "0 6 * * *");
    const dir = versionDir(paths, "p", 2, "h2");
    assertEquals(await Deno.readTextFile(`${dir}/pipeline.ts`), "export default 2;");
    assert.ok((await store.getVersion("p", 2))?.promoted_at);

    await assert.rejects(
      promoteVersion(store, paths, "p", 7),
      (err: Error & { code?: string }) => err.code === "not_found",
    );
  } finally {
    await store.close();
    await Deno.remove(home, { recursive: true });
  }
});
