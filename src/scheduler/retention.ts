/**
 * Run history retention: finished runs beyond the newest `keepRuns` of a pipeline, or older
 * than `keepDays`, are deleted (with their steps and logs) once at start and then hourly.
 */
import type { Store } from "../store/mod.ts";
import type { Clock } from "./clock.ts";

const EVERY_MS = 60 * 60 * 1000;

export interface RetentionOptions {
  keepRuns: number;
  keepDays: number;
  onPruned?(count: number): void;
  onError?(err: unknown): void;
}

export class Retention {
  #stop = new AbortController();
  #loop: Promise<void> | null = null;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly options: RetentionOptions,
  ) {}

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stop.signal.aborted) {
        await this.prune();
        await this.clock.sleep(EVERY_MS, this.#stop.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#loop;
  }

  /** One pruning pass; returns the number of runs deleted. */
  async prune(): Promise<number> {
    try {
      const count = await this.store.prune({ ...this.options, now: this.clock.now() });
      if (count > 0) this.options.onPruned?.(count);
      return count;
    } catch (err) {
      this.options.onError?.(err);
      return 0;
    }
  }
}
