/**
 * Batches a run's log lines into the store: one write per burst instead of one per line.
 *
 * With a redactor, every line is redacted before it is stored, and so is a secret (or an
 * encoding of one) printed in pieces over consecutive lines (a log event's step name is
 * redacted too, on its own): the lines of a writer, whatever
 * their level, are read as one stream of text in the order they are written (stdout lines and
 * log events share the run's stdout pipe; stderr lines come in as they arrive), each line
 * following the previous one directly. Each piece of a secret found across lines becomes
 * `[REDACTED:<label>:part]` in its line.
 *
 * To make that possible, a line ending in what could be the beginning of a secret is held
 * back until the lines after it show whether it is one, or until the final `flush()`; the
 * lines written after it wait behind it, so lines are stored in `seq` order (followers page
 * by `seq`). A line that cannot end in the beginning of a secret is not delayed. What is held
 * is bounded: the held lines after the first add up to fewer characters than the longest
 * needle, and no more than `maxHeldLines` lines are held — past that, all are stored, the
 * possible beginning of a secret they end with redacted as `[REDACTED:<label>:part]` (only a run
 * printing a secret prefix followed by that many empty lines can cause this).
 *
 * Held lines are not released by the 50 ms timer, only by later lines: the last line before
 * a run goes quiet may show up late when it ends in, say, a hex digit or a letter a secret's
 * encoding starts with. Redacting is idempotent, so lines the caller already redacted are
 * stored unchanged.
 */
import type { LogRecord, Store } from "../store/mod.ts";
import { STORED_LOG_CHARS, STORED_STEP_NAME_CHARS } from "../../sdk/_limits.ts";
import {
  cut,
  maskText,
  mergeRedactions,
  noRedaction,
  type PrefixTracker,
  type Redaction,
  type Redactor,
} from "./redact.ts";

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 500;
const MIN_HELD_LINES = 256;
/** Longest stored log line; longer ones are cut (after redaction) and end with `…`. */
export const MAX_LOG_CHARS = STORED_LOG_CHARS;
/** Longest stored step name (of a log line's step, too). */
export const MAX_STEP_NAME_CHARS = STORED_STEP_NAME_CHARS;

export interface LogWriterOptions {
  /** Redacts every line, also secrets split across lines. Without it lines are stored as is. */
  redact?: Redactor;
  /** Most lines held back at once. @default {max(256, longest needle + 1)} */
  maxHeldLines?: number;
}

export class LogWriter {
  #failure: unknown = null;
  #pending: LogRecord[] = [];
  #held: LogRecord[] = [];
  #stream: LineStream;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq: number;
  #redact: Redactor;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    private readonly attempt: number,
    firstSeq: number,
    options: LogWriterOptions = {},
  ) {
    this.#seq = firstSeq;
    const redact = this.#redact = options.redact ?? noRedaction();
    this.#stream = new LineStream(
      redact,
      options.maxHeldLines ?? Math.max(MIN_HELD_LINES, redact.maxNeedleLength + 1),
    );
  }

  /** The seq the next line will get. */
  get nextSeq(): number {
    return this.#seq;
  }

  /** Lines written but held back, waiting for the next line to show whether they hold a secret. */
  get heldLines(): number {
    return this.#held.length;
  }

  /** Adds a line, stamped now (never with a time the child chose). */
  write(level: LogRecord["level"], message: string, step: string | null = null): void {
    this.#held.push({
      run_id: this.runId,
      attempt: this.attempt,
      seq: this.#seq++,
      ts: new Date().toISOString(),
      level,
      step: step === null ? null : storedText(this.#redact, step, MAX_STEP_NAME_CHARS),
      message,
    });
    this.#release(this.#stream.push(escapeNul(message)));
    if (this.#pending.length >= FLUSH_AT_LINES) this.#store();
    else if (this.#pending.length > 0) {
      this.#timer ??= setTimeout(() => this.#store(), FLUSH_EVERY_MS);
    }
  }

  /**
   * Writes everything written so far, held lines included; resolves when it is stored, or
   * rejects with the first error the store gave for any batch of this writer.
   */
  async flush(): Promise<void> {
    this.#release(this.#stream.end());
    await this.#store();
    if (this.#failure !== null) throw this.#failure;
  }

  #release(messages: string[]): void {
    for (const message of messages) {
      const record = this.#held.shift()!;
      record.message = cut(message, MAX_LOG_CHARS);
      this.#pending.push(record);
    }
  }

  /** Stores the pending batch after the previous one; a failure is kept for flush(). */
  #store(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) {
      this.#flushing = this.#flushing
        .then(() => this.store.appendLogs(batch))
        .catch((err) => void (this.#failure ??= err));
    }
    return this.#flushing;
  }
}

/**
 * A string from a run as it may be stored in a text column: redacted, cut to `max`, and with
 * NUL written as `\u0000` (SQLite would cut the text there, PostgreSQL refuses it).
 */
export function storedText(redact: Redactor, text: string, max: number): string {
  return redact.clip(escapeNul(text), max);
}

function escapeNul(text: string): string {
  return text.includes("\0") ? text.replaceAll("\0", "\\u0000") : text;
}

/**
 * `lines` redacted as consecutive lines of one stream, the way {@link LogWriter} stores them:
 * a secret split across lines is redacted in each piece. Nothing is held back here, so there
 * is no bound on the lines (for a list already in memory, such as the tail of stderr).
 */
export function redactLines(redact: Redactor, lines: readonly string[]): string[] {
  const stream = new LineStream(redact, Infinity);
  return [...lines.flatMap((line) => stream.push(line)), ...stream.end()];
}

/**
 * The held lines of a writer's stream of text. Offsets count from the start of the stream.
 * Everything before `#cut` is settled: no secret found later can start there. From `#cut` to
 * `#end` is the pending end of the stream, the beginning of a possible secret.
 */
class LineStream {
  #lines: { text: string; start: number }[] = [];
  #end = 0;
  #cut = 0;
  /** Secrets found so far that reach into held lines. */
  #found: Redaction[] = [];
  #tracker: PrefixTracker;

  constructor(private readonly redact: Redactor, private readonly maxLines: number) {
    this.#tracker = redact.tracker();
  }

  /** Adds a line; returns the lines that can be stored now, redacted, oldest first. */
  push(text: string): string[] {
    const start = this.#end;
    this.#lines.push({ text, start });
    this.#end += text.length;
    // The text a secret found now may start in: the pending end, then this line.
    const active = this.#lines.length === 1
      ? text
      : this.#lines.map((line) => line.text.slice(Math.max(0, this.#cut - line.start))).join("");
    const offset = this.#end - active.length;
    const found = this.redact.find(active);
    if (found.length > 0) {
      if (offset !== 0) { for (const r of found) r.start += offset, r.end += offset; }
      this.#found = this.#found.length > 0 ? mergeRedactions([...this.#found, ...found]) : found;
    }
    this.#cut = this.#end - this.#tracker.push(text);
    if (this.#lines.length > this.maxLines) return this.#forceRelease();
    return this.#releaseUpTo(this.#cut);
  }

  /**
   * Releases every held line although the next one might complete a secret they end with: that
   * pending end is redacted as a piece of a secret.
   */
  #forceRelease(): string[] {
    const pending = this.#end - this.#cut;
    if (pending > 0) {
      const tail = this.#lines.map((line) => line.text).join("").slice(-pending);
      this.#found = mergeRedactions([...this.#found, {
        start: this.#cut,
        end: this.#end,
        labels: [this.redact.pendingLabel(tail, pending)],
        part: true,
      }]);
    }
    return this.end();
  }

  /** Releases every held line. */
  end(): string[] {
    this.#cut = this.#end;
    this.#tracker.reset();
    return this.#releaseUpTo(this.#end);
  }

  /** Releases the lines that end at or before `offset`. */
  #releaseUpTo(offset: number): string[] {
    const lines = this.#lines;
    let n = 0;
    while (n < lines.length && lines[n]!.start + lines[n]!.text.length <= offset) n++;
    if (n === 0) return [];
    const released = n === lines.length ? lines : lines.slice(0, n);
    this.#lines = n === lines.length ? [] : lines.slice(n);
    if (this.#found.length === 0) return released.map((line) => line.text);
    const out = released.map((line) => maskText(line.text, this.#found, line.start));
    const next = this.#lines[0]?.start ?? this.#end;
    this.#found = this.#found.filter((r) => r.end > next);
    return out;
  }
}
