/**
 * The run's channel to the trusted side: protocol events out on stdout, one JSON object per
 * line behind a per-run nonce; the init message in on stdin, then replies to requests and, at
 * most once, a stop line. Lines without the nonce (what the pipeline prints itself) are only
 * ever treated as log text by the parent.
 *
 * Primitives are captured when this module is evaluated, before any pipeline code runs, so a
 * pipeline that replaces `Deno.stdout` or `JSON.stringify` later does not reach them.
 */

import { jsonDepthViolation, MAX_LINE_CHARS } from "./_limits.ts";
import type { SentEvent } from "./_events.ts";

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
  /** The schedule instant the run is for (scheduled runs, backfills, what they triggered). */
  scheduled_at?: string | null;
  /** `scheduled_at`, else when the run was created. */
  logical_date?: string;
  secrets: string[];
  /** Declared connections: name → connector type and options (credentials included). */
  connections?: Record<string, { type: string; options: Record<string, unknown> }>;
}

let prefix: string | undefined;
let stdinReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
let leftover = "";
let nextId = 1;
const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
let replyLoop: Promise<void> | undefined;
const stopping = new AbortController();

/** Why the run is told to stop, as `ctx.signal.reason` says it. */
const STOP_REASONS: Record<string, () => DOMException> = {
  cancel: () => new DOMException("The run was cancelled", "AbortError"),
  drain: () =>
    new DOMException("The daemon is shutting down; the run will run again", "AbortError"),
  timeout: () => new DOMException("The run is about to reach its timeout", "TimeoutError"),
};

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
  const end = text.indexOf("\n");
  // The rest of stdin carries replies to requests; it is read when the first request is made.
  stdinReader = reader;
  leftover = end === -1 ? "" : text.slice(end + 1);
  const init = JSON.parse(end === -1 ? text : text.slice(0, end)) as InitMessage;
  prefix = `@tau:${init.nonce} `;
  scratch = Deno.cwd();
  return init;
}

let scratch: string | undefined;

/** The run's scratch folder: its working directory at the start (its code may change it). */
export function scratchFolder(): string {
  return scratch ??= Deno.cwd();
}

/**
 * Aborted when the trusted side tells the run to stop (see `ctx.signal`). Stdin is read for the
 * stop line only from the first call on: a pending read keeps the process alive, and a pipeline
 * that awaits a promise that never settles should fail at once, not wait for its timeout.
 */
export function stopSignal(): AbortSignal {
  replyLoop ??= readReplies();
  return stopping.signal;
}

/** Writes one protocol event. */
export function emit(event: SentEvent): void {
  writeLine(stringify(event));
}

function writeLine(json: string): void {
  if (prefix === undefined) throw new Error("Tau channel used before init");
  let bytes = encode(prefix + json + "\n");
  while (bytes.length > 0) bytes = bytes.subarray(writeSync(bytes));
}

/** Below the parent's line cap, with room for the prefix. */
const MAX_REQUEST_CHARS = MAX_LINE_CHARS - 100;

/** Raised in the run when the trusted side refuses or fails a request. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RequestError";
  }
}

/** Asks the trusted side to do something for this run (e.g. a DuckDB query); awaits the reply. */
export function request(op: string, payload: unknown): Promise<unknown> {
  const id = nextId++;
  const tooDeep = jsonDepthViolation(payload);
  if (tooDeep) return Promise.reject(new RequestError(`Request ${op} is ${tooDeep}`));
  const line = stringify({ type: "request", id, op, payload });
  // The parent drops longer lines; fail here rather than wait for a reply that cannot come.
  if (line.length > MAX_REQUEST_CHARS) {
    return Promise.reject(
      new RequestError(`Request ${op} is too large (${line.length} characters)`),
    );
  }
  const reply = new Promise<unknown>((resolve, reject) => pending.set(id, { resolve, reject }));
  replyLoop ??= readReplies();
  writeLine(line);
  return reply;
}

async function readReplies(): Promise<void> {
  if (!stdinReader) throw new Error("Tau channel used before init");
  const decoder = new TextDecoder();
  let buffer = leftover;
  for (;;) {
    for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
      const reply = JSON.parse(buffer.slice(0, nl)) as {
        type?: "stop";
        reason?: string;
        id: number;
        ok: boolean;
        value?: unknown;
        error?: { message: string };
      };
      buffer = buffer.slice(nl + 1);
      if (reply.type === "stop") {
        stopping.abort((STOP_REASONS[reply.reason ?? ""] ?? STOP_REASONS.cancel!)());
        continue;
      }
      const waiter = pending.get(reply.id);
      pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new RequestError(reply.error?.message ?? "request failed"));
    }
    const { value, done } = await stdinReader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
  }
  for (const waiter of pending.values()) {
    waiter.reject(new RequestError("The trusted side closed the channel"));
  }
  pending.clear();
}
