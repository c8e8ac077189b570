/** Deployed code on disk: the store holds the truth; these files are what a run imports. */
import { join } from "node:path";
import { exists } from "../core/fs.ts";
import { type TauPaths, versionDir } from "../config/paths.ts";
import type { PipelineVersion } from "../store/mod.ts";
import type { PipelineMetadata } from "../metadata/schema.ts";

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
  const dir = versionDir(paths, version.pipeline, version.version);
  const entry = join(dir, "entry.ts");
  const file = join(dir, "pipeline.ts");
  if ((await exists(entry)) && (await exists(file))) return entry;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(file, version.code);
  await Deno.writeTextFile(entry, entrySource(version.metadata as unknown as PipelineMetadata));
  return entry;
}
