/**
 * The run's channel to the trusted side: protocol events out on stdout, one JSON object per
 * line behind a per-run nonce; the init message in on stdin. Lines without the nonce (what the
 * pipeline prints itself) are only ever treated as log text by the parent.
 *
 * Primitives are captured when this module is evaluated, before any pipeline code runs, so a
 * pipeline that replaces `Deno.stdout` or `JSON.stringify` later does not reach them.
 */

const stdout = Deno.stdout;
const writeSync = stdout.writeSync.bind(stdout);
const stringify = JSON.stringify;
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);

/** What the parent sends as the first line on stdin. */
export interface InitMessage {
  nonce: string;
  /** `warm`: load the modules (filling the compiler caches) and exit without running. */
  mode?: "run" | "warm";
  run_id: string;
  pipeline: string;
  attempt: number;
  params: Record<string, unknown>;
  last_successful_run: string | null;
  secrets: string[];
}

let prefix: string | undefined;

/** Reads the init line from stdin. Must run before the pipeline module is imported. */
export async function readInit(): Promise<InitMessage> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  const end = text.indexOf("\n");
  const init = JSON.parse(end === -1 ? text : text.slice(0, end)) as InitMessage;
  prefix = `@tau:${init.nonce} `;
  return init;
}

/** Writes one protocol event. */
export function emit(event: Record<string, unknown>): void {
  if (prefix === undefined) throw new Error("Tau channel used before init");
  let bytes = encode(prefix + stringify(event) + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(writeSync(bytes));
}

export function now(): string {
  return new Date().toISOString();
}
