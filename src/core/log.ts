/**
 * The daemon's log: one JSON object per line (`ts`, `event`, fields) on stderr, or in the log
 * file in background mode. A leaf module, so every part of the daemon can report what went wrong
 * where it happened instead of swallowing it.
 */

let logFile: Deno.FsFile | null = null;

/** Sends log lines to a file instead of stderr (background mode). */
export function setLogFile(path: string): void {
  logFile = Deno.openSync(path, { create: true, append: true });
}

/** Writes one log line. */
export function log(event: string, fields: Record<string, unknown>): void {
  const line = JSON.stringify({ ts: new Date().toISOString(), event, ...fields }) + "\n";
  if (logFile) logFile.writeSync(new TextEncoder().encode(line));
  else console.error(line.trimEnd());
}
