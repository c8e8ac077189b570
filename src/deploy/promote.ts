/**
 * Making a stored version current (a heal's candidate whose replay succeeded) with everything a
 * deploy does after storing: its code files, and its schedule and dependencies where they
 * differ from the version it replaces.
 */
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "../config/paths.ts";
import { storedMetadata } from "../metadata/schema.ts";
import type { PipelineRecord, Store } from "../store/mod.ts";
import { applyDeclarations, checkDeclarations } from "../scheduler/declarations.ts";
import { materializeVersion } from "./code_files.ts";

/** Promotes version `number` of `name`; the next run (scheduled or not) runs it. */
export async function promoteVersion(
  store: Store,
  paths: TauPaths,
  name: string,
  number: number,
): Promise<PipelineRecord> {
  const before = await store.getPipeline(name);
  const version = await store.getVersion(name, number);
  if (!before || !version) {
    throw new TauError("not_found", `Pipeline ${name} has no version ${number}`, {
      hint: `list its versions with tau versions ${name}`,
    });
  }
  const metadata = storedMetadata(version);
  const previous = storedMetadata(before);
  await checkDeclarations(store, metadata, previous);
  // Code files first: a run queued the moment the version is current finds them.
  await materializeVersion(paths, version);
  const after = await store.promoteVersion(name, number);
  if (!after) throw new TauError("not_found", `Pipeline ${name} was removed meanwhile`);
  await applyDeclarations(store, metadata, previous, new Date());
  return after;
}
