/** A clock tests move by hand: `sleep` resolves only when `advance` passes its deadline. */
import type { Clock } from "../../src/scheduler/clock.ts";

export class ManualClock implements Clock {
  #now: number;
  #sleepers: { at: number; wake: () => void }[] = [];

  constructor(start = Date.parse("2026-01-01T00:00:00Z")) {
    this.#now = start;
  }

  now(): Date {
    return new Date(this.#now);
  }

  sleep(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const sleeper = {
        at: this.#now + ms,
        wake: () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          signal.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal.addEventListener("abort", sleeper.wake, { once: true });
    });
  }

  /**
   * Moves time forward in steps of `stepMs`, waking every sleeper due at each step and letting
   * the work it starts (store calls included) settle before the next.
   */
  async advance(ms: number, stepMs = 100): Promise<void> {
    const end = this.#now + ms;
    while (this.#now < end) {
      this.#now = Math.min(end, this.#now + stepMs);
      for (const sleeper of this.#sleepers.filter((s) => s.at <= this.#now)) sleeper.wake();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
