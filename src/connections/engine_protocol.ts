/**
 * The line protocol between the daemon and a run's DuckDB engine process, and its byte caps.
 * The daemon writes one JSON object per line on the engine's stdin: `open` (a session's target,
 * decided by the daemon) or a request. The engine answers each request with one line on stdout,
 * `{"id":N,"ok":true,"value":…}` or `{"id":N,"ok":false,"error":"…"}`; the daemon takes the
 * value as text, so result rows are never parsed on the trusted side.
 */
import type { DuckDBTarget } from "./duckdb_service.ts";

const MIB = 1024 * 1024;

/** JSON bytes one non-streamed reply (query, execute) may hold; past it, use extractStream. */
export const REPLY_MAX_BYTES = 16 * MIB;
/** JSON bytes after which a cursor batch ends, even below its batchSize. */
export const BATCH_BUDGET_BYTES = 4 * MIB;
/** Longest line the daemon accepts from an engine: a full reply plus its framing. */
export const ENGINE_LINE_MAX_BYTES = REPLY_MAX_BYTES + 64 * 1024;
/** Longest error message an engine may send (DuckDB's messages are a few hundred bytes). */
export const ERROR_MAX_CHARS = 8 * 1024;

/** Daemon → engine: the target of a session, sent before its first request. */
export interface OpenLine {
  op: "open";
  session: number;
  target: DuckDBTarget;
}

/** Daemon → engine: one validated request. */
export interface RequestLine {
  id: number;
  op: string;
  /** The session it runs on (query, execute, cursor_open, load_begin). */
  session?: number;
  args: Record<string, unknown>;
}

export type ReplyLine =
  | { id: number; ok: true; value: string }
  | { id: number; ok: false; error: string };

export function okLine(id: number, valueJson: string): string {
  return `{"id":${id},"ok":true,"value":${valueJson}}\n`;
}

export function errorLine(id: number, message: string): string {
  return JSON.stringify({ id, ok: false, error: message.slice(0, ERROR_MAX_CHARS) }) + "\n";
}

const OK_PREFIX = /^\{"id":(\d{1,15}),"ok":true,"value":/;

/** Reads one engine line (without its newline); null when it is not a well-formed reply. */
export function parseReplyLine(line: string): ReplyLine | null {
  const ok = OK_PREFIX.exec(line);
  if (ok) {
    if (!line.endsWith("}")) return null;
    return { id: Number(ok[1]), ok: true, value: line.slice(ok[0].length, -1) };
  }
  if (line.length > ERROR_MAX_CHARS * 6 + 64) return null;
  try {
    const reply = JSON.parse(line) as Record<string, unknown>;
    const keys = Object.keys(reply).join(",");
    if (
      keys === "id,ok,error" && Number.isSafeInteger(reply.id) && reply.ok === false &&
      typeof reply.error === "string"
    ) {
      return { id: reply.id as number, ok: false, error: reply.error };
    }
  } catch { /* malformed */ }
  return null;
}
