/**
 * Bytes and entries under a run's folders, as the watchdog measures them. The walk is
 * synchronous (about 10 µs an entry, against 40 µs with async calls) but cut into slices of a
 * few milliseconds, so the daemon's event loop keeps turning; it stops counting past a cap on
 * entries, so a run holding a million files costs the same walk as one holding the cap; and it
 * reports the time it spent, which the watchdog charges to the run's CPU.
 */
import { join } from "node:path";

export interface DiskUsage {
  bytes: number;
  entries: number;
  /** More than `maxEntries` entries: the walk stopped counting. */
  capped: boolean;
  /** Time spent walking, excluding the pauses between slices. */
  walkMs: number;
}

/** Every entry counts at least one 4 KiB block, as on disk: empty files are not free. */
const BLOCK = 4096;
const SLICE_MS = 4;
const CHECK_EVERY = 128;

/** Walks `paths` without following symlinks; a path that does not exist counts nothing. */
export async function diskUsage(paths: readonly string[], maxEntries: number): Promise<DiskUsage> {
  const usage: DiskUsage = { bytes: 0, entries: 0, capped: false, walkMs: 0 };
  const pending = [...paths];
  let sliceStart = performance.now();
  let sinceCheck = 0;
  while (pending.length > 0) {
    const path = pending.pop()!;
    const info = lstatOrNull(path);
    if (info === null) continue;
    usage.bytes += Math.max(info.size, BLOCK);
    if (++usage.entries > maxEntries) {
      usage.capped = true;
      break;
    }
    if (info.isDirectory) {
      for (const entry of readDirOrEmpty(path)) pending.push(join(path, entry.name));
    }
    if (++sinceCheck < CHECK_EVERY) continue;
    sinceCheck = 0;
    const now = performance.now();
    if (now - sliceStart < SLICE_MS) continue;
    usage.walkMs += now - sliceStart;
    await new Promise((resolve) => setTimeout(resolve, 0));
    sliceStart = performance.now();
  }
  usage.walkMs += performance.now() - sliceStart;
  return usage;
}

function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null; // removed while walking
  }
}

function readDirOrEmpty(path: string): Deno.DirEntry[] {
  try {
    return [...Deno.readDirSync(path)];
  } catch {
    return [];
  }
}
