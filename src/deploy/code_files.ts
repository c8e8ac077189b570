/** Deployed code on disk: the store holds the truth; these files are what a run imports. */
import { join } from "node:path";
import { exists } from "../core/fs.ts";
import { type TauPaths, versionDir } from "../config/paths.ts";
import type { PipelineVersion } from "../store/mod.ts";
import { type PipelineMetadata, storedMetadata } from "../metadata/schema.ts";

/**
 * The entry a run starts from. It reads the init message before the pipeline module loads.
 * Connector code is part of a run's module graph only when the pipeline declares connections:
 * resolving the npm drivers costs every start ~20 ms, which a pipeline without them should
 * not pay.
 */
export function entrySource(metadata: Pick<PipelineMetadata, "connections">): string {
  const connectors = metadata.connections.length > 0
    ? `, () => import("tau/connectors/_named.ts")`
    : "";
  return `import { run, start } from "tau/_harness.ts";
const init = await start();
await run(await import("./pipeline.ts"), init${connectors});
`;
}

/** Writes (if missing) the version's pipeline.ts and entry.ts; returns the entry path. */
export async function materializeVersion(
  paths: TauPaths,
  version: PipelineVersion,
): Promise<string> {
  const dir = versionDir(paths, version.pipeline, version.version, version.hash);
  const entry = join(dir, "entry.ts");
  if (await exists(entry)) return entry;
  // Written beside and renamed into place, so a concurrent run never sees half a version.
  const building = `${dir}.${crypto.randomUUID()}`;
  await Deno.mkdir(building, { recursive: true });
  await Deno.writeTextFile(join(building, "pipeline.ts"), version.code);
  await Deno.writeTextFile(
    join(building, "entry.ts"),
    entrySource(storedMetadata(version)),
  );
  try {
    await Deno.rename(building, dir);
  } catch (err) {
    await Deno.remove(building, { recursive: true }).catch(() => {});
    if (!(await exists(entry))) throw err; // someone else put it there first: fine
  }
  return entry;
}
