/** Deployed code on disk: the store holds the truth; these files are what a run imports. */
import { join } from "node:path";
import { exists } from "../core/fs.ts";
import { type TauPaths, versionDir } from "../config/paths.ts";
import type { PipelineVersion } from "../store/mod.ts";
import { ENTRY_SOURCE } from "./analyze.ts";

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
  await Deno.writeTextFile(entry, ENTRY_SOURCE);
  return entry;
}
