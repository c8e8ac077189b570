/** Batches a run's log lines into the store: one write per burst instead of one per line. */
import type { LogRecord, Store } from "../store/mod.ts";

const FLUSH_EVERY_MS = 50;
const FLUSH_AT_LINES = 500;

export class LogWriter {
  #pending: LogRecord[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #seq: number;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    private readonly attempt: number,
    firstSeq: number,
  ) {
    this.#seq = firstSeq;
  }

  /** The seq the next line will get. */
  get nextSeq(): number {
    return this.#seq;
  }

  write(level: LogRecord["level"], message: string, step: string | null = null, ts?: string): void {
    this.#pending.push({
      run_id: this.runId,
      attempt: this.attempt,
      seq: this.#seq++,
      ts: ts ?? new Date().toISOString(),
      level,
      step,
      message,
    });
    if (this.#pending.length >= FLUSH_AT_LINES) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  /** Writes everything pending; resolves when it is stored. */
  flush(): Promise<void> {
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
