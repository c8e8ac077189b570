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
 * needle, and no more than `maxHeldLines` lines are held — past that, all are stored as they
 * are (a possible beginning of a secret left unredacted, which only a run printing a secret
 * prefix followed by that many empty lines can cause).
 *
 * Held lines are not released by the 50 ms timer, only by later lines: the last line before
 * a run goes quiet may show up late when it ends in, say, a hex digit or a letter a secret's
 * encoding starts with. Redacting is idempotent, so lines the caller already redacted are
 * stored unchanged.
 */
import type { LogRecord, Store } from "../store/mod.ts";
import {
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

export interface LogWriterOptions {
  /** Redacts every line, also secrets split across lines. Without it lines are stored as is. */
  redact?: Redactor;
  /** Most lines held back at once. @default {max(256, longest needle + 1)} */
  maxHeldLines?: number;
}

export class LogWriter {
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

  write(level: LogRecord["level"], message: string, step: string | null = null, ts?: string): void {
    this.#held.push({
      run_id: this.runId,
      attempt: this.attempt,
      seq: this.#seq++,
      ts: ts ?? new Date().toISOString(),
      level,
      step: step === null ? null : this.#redact(step),
      message,
    });
    this.#release(this.#stream.push(message));
    if (this.#pending.length >= FLUSH_AT_LINES) this.#store();
    else if (this.#pending.length > 0) {
      this.#timer ??= setTimeout(() => this.#store(), FLUSH_EVERY_MS);
    }
  }

  /** Writes everything written so far, held lines included; resolves when it is stored. */
  flush(): Promise<void> {
    this.#release(this.#stream.end());
    return this.#store();
  }

  #release(messages: string[]): void {
    for (const message of messages) {
      const record = this.#held.shift()!;
      record.message = message;
      this.#pending.push(record);
    }
  }

  #store(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length > 0) {
      this.#flushing = this.#flushing.then(() => this.store.appendLogs(batch));
    }
    return this.#flushing;
  }
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
    if (this.#lines.length > this.maxLines) return this.end();
    return this.#releaseUpTo(this.#cut);
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
