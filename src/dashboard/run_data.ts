/**
 * What the run page reads from the store, and the pure decisions behind it: which log lines to
 * show, where each step's bar goes, what an error reference stands for, how much of a value is
 * printed. Every read is bounded: a run's logs and results are written by untrusted code.
 */
import { TauError } from "../core/errors.ts";
import { excerpt } from "../heal/excerpt.ts";
import type { Diagnosis } from "../heal/types.ts";
import type {
  HealRecord,
  Json,
  LogRecord,
  PipelineVersion,
  RunError,
  RunRecord,
  StepRecord,
  Store,
} from "../store/mod.ts";
import { TERMINAL_STATUSES } from "../store/mod.ts";
import { clampDepth } from "../api/views.ts";
import { storedMetadata } from "../metadata/schema.ts";

/** Log lines on the page, and in one poll of the live follow. */
export const MAX_LOG_LINES = 1000;
/** Newest lines a search reads, in pages of {@link SEARCH_PAGE}. */
export const SEARCH_SCAN = 100_000;
const SEARCH_PAGE = 5_000;
/** Longest search text taken; longer is cut. */
export const MAX_QUERY_CHARS = 200;
/** Characters of a params or result value printed; the rest is cut, and the page says so. */
export const MAX_JSON_CHARS = 64 * 1024;
/** Steps drawn on the timeline. */
export const MAX_STEPS = 500;
/** Heals looked through for those this run started. */
const HEAL_SCAN = 100;

export interface LogView {
  lines: LogRecord[];
  /** Lines older than those shown exist (only the last {@link MAX_LOG_LINES} are). */
  older: boolean;
  /** With a search: how many of the lines read matched, and whether older lines went unread. */
  search: { q: string; matches: number; unread: boolean } | null;
}

export interface ErrorView {
  error: RunError;
  location: { file: string; line: number; column: number } | null;
  /** Numbered lines around the location, `>` marking it; null when that file is not stored. */
  excerpt: string | null;
}

export interface RunPageData {
  run: RunRecord;
  steps: StepRecord[];
  logs: LogView;
  error: ErrorView | null;
  diagnosis: Diagnosis | null;
  /** Heals started from this run, newest first. */
  heals: HealRecord[];
  /** The connections the run's version declares (its permission set lists only their hosts). */
  connections: string[];
}

export function isFinished(run: RunRecord): boolean {
  return TERMINAL_STATUSES.includes(run.status);
}

/** The run, or `not_found` (a 404 page) as the API says it. */
export async function runOrNotFound(store: Store, runId: string): Promise<RunRecord> {
  const run = await store.getRun(runId);
  if (!run) {
    throw new TauError("not_found", `No run ${runId}`, { hint: "list runs with tau runs NAME" });
  }
  return run;
}

export async function loadRunPage(
  store: Store,
  runId: string,
  query: string | null,
): Promise<RunPageData> {
  const run = await runOrNotFound(store, runId);
  const [steps, logs, heals, version] = await Promise.all([
    store.listSteps(run.run_id, run.attempt || undefined),
    query ? searchLogs(store, run.run_id, query) : lastLogs(store, run.run_id),
    store.listHeals(run.pipeline, { limit: HEAL_SCAN }),
    store.getVersion(run.pipeline, run.version),
  ]);
  const declared = version ? storedMetadata(version).connections : undefined;
  return {
    run,
    steps,
    logs,
    error: run.error ? errorView(run, version) : null,
    diagnosis: run.diagnosis as unknown as Diagnosis | null,
    heals: heals.filter((h) => h.run_id === run.run_id),
    connections: Array.isArray(declared) ? declared : [],
  };
}

async function lastLogs(store: Store, runId: string): Promise<LogView> {
  const lines = await store.listLogs(runId, { tail: MAX_LOG_LINES + 1 });
  const older = lines.length > MAX_LOG_LINES;
  return { lines: older ? lines.slice(1) : lines, older, search: null };
}

/**
 * Lines whose message contains `q` (case-insensitive) among the newest {@link SEARCH_SCAN},
 * read page by page; the last {@link MAX_LOG_LINES} matches are kept.
 */
export async function searchLogs(store: Store, runId: string, q: string): Promise<LogView> {
  const needle = q.toLowerCase();
  const last = (await store.listLogs(runId, { tail: 1 }))[0];
  if (!last) return { lines: [], older: false, search: { q, matches: 0, unread: false } };
  let after = Math.max(-1, last.seq - SEARCH_SCAN);
  const unread = after >= 0;
  let matched: LogRecord[] = [];
  let matches = 0;
  for (;;) {
    const page = await store.listLogs(runId, { afterSeq: after, limit: SEARCH_PAGE });
    for (const line of page) {
      if (line.seq > last.seq) break; // written since the search began
      if (!line.message.toLowerCase().includes(needle)) continue;
      matches++;
      matched.push(line);
      if (matched.length >= 2 * MAX_LOG_LINES) matched = matched.slice(-MAX_LOG_LINES);
    }
    const end = page.at(-1);
    if (page.length < SEARCH_PAGE || !end || end.seq >= last.seq) break;
    after = end.seq;
  }
  const lines = matched.slice(-MAX_LOG_LINES);
  return { lines, older: matches > lines.length, search: { q, matches, unread } };
}

/**
 * The run's error made whole, located and quoted. The location is in the author's file, which
 * is the stored version's code (as the diagnosis reads it); a driver's error without a frame
 * takes the location its diagnosis found.
 */
function errorView(run: RunRecord, version: PipelineVersion | null): ErrorView {
  const error = wholeError(run, run.error!);
  const diagnosed = (run.diagnosis as unknown as Diagnosis | null)?.location ?? null;
  const location = error.location ?? diagnosed;
  if (!location) return { error, location: null, excerpt: null };
  const code = version && version.filename === location.file ? version.code : null;
  return { error, location, excerpt: code === null ? null : excerpt(code, location.line) };
}

/**
 * The whole error a reference (`ref`, see store/error_refs.ts) names in the run record: `error`
 * or `attempts[N].error`. A reference whose target is gone reads as itself (kind and message).
 */
export function wholeError(run: RunRecord, error: RunError): RunError {
  if (!error.ref) return error;
  const index = /^attempts\[(\d+)\]\.error$/.exec(error.ref)?.[1];
  const target = error.ref === "error"
    ? run.error
    : index !== undefined
    ? run.attempts[Number(index)]?.error ?? null
    : null;
  return target && !target.ref ? target : error;
}

/** A value as indented JSON, at most {@link MAX_JSON_CHARS} characters of it. */
export function jsonText(value: Json): { text: string; cut: number | null } {
  const text = JSON.stringify(clampDepth(value), null, 2) ?? "null";
  if (text.length <= MAX_JSON_CHARS) return { text, cut: null };
  return { text: text.slice(0, MAX_JSON_CHARS), cut: text.length };
}

export interface Bar {
  step: StepRecord;
  /** Fractions of the run's span, from 0 to 1. */
  start: number;
  width: number;
}

/**
 * Each step's bar: its start offset and duration as fractions of the run's span (from the run's
 * start, or its first step's, to its end; a step or run still going lasts until `now`).
 */
export function timeline(run: RunRecord, steps: StepRecord[], now: number): Bar[] {
  const at = (iso: string | null) => (iso ? Date.parse(iso) : NaN);
  const runEnd = Number.isFinite(at(run.finished_at)) ? at(run.finished_at) : now;
  const endOf = (step: StepRecord) =>
    Number.isFinite(at(step.finished_at))
      ? at(step.finished_at)
      : step.duration_ms !== null
      ? at(step.started_at) + step.duration_ms
      : runEnd;
  const starts = steps.map((s) => at(s.started_at)).filter(Number.isFinite);
  const begin = Math.min(...starts, ...[at(run.started_at)].filter(Number.isFinite));
  if (!Number.isFinite(begin)) return [];
  const end = Math.max(begin, runEnd, ...steps.map(endOf).filter(Number.isFinite));
  const span = Math.max(end - begin, 1);
  return steps.map((step) => {
    const start = Number.isFinite(at(step.started_at)) ? at(step.started_at) : begin;
    const stop = Math.max(start, endOf(step));
    return {
      step,
      start: clamp01((start - begin) / span),
      width: clamp01((stop - start) / span),
    };
  });
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, Number.isFinite(x) ? x : 0));

/** A value safe as part of a class name (statuses, levels: stored strings). */
export function token(value: string | null | undefined): string {
  return value && /^[a-z_]{1,32}$/.test(value) ? value : "other";
}
