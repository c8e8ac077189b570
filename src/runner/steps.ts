/** A run attempt's steps as the parent stores them. */
import type { RunError, StepRecord, Store } from "../store/mod.ts";
import { MAX_STEP_NAME_CHARS, storedText } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";

/**
 * The run's steps as stored: stamped with the parent's clock when their events arrive, and any
 * step still open when the run ends is closed as failed, with the reason.
 */
export class Steps {
  readonly #open = new Map<number, { name: string; startedAt: number }>();
  readonly #refused = new Map<number, string>();

  constructor(
    private readonly store: Store,
    private readonly run: { runId: string; attempt: number; redact: Redactor },
  ) {}

  async start(seq: number, name: string): Promise<void> {
    const startedAt = Date.now();
    this.#open.set(seq, { name, startedAt });
    await this.#save(seq, name, startedAt, { status: "running" });
  }

  async end(seq: number, name: string, fields: Partial<StepRecord>): Promise<void> {
    const finishedAt = Date.now();
    const startedAt = this.#open.get(seq)?.startedAt ?? finishedAt;
    this.#open.delete(seq);
    await this.#save(seq, name, startedAt, {
      ...fields,
      finished_at: new Date(finishedAt).toISOString(),
      duration_ms: finishedAt - startedAt,
    });
  }

  /** A step_end line that was refused: the step is closed with the reason at the end. */
  refused(seq: number, reason: string): void {
    this.#refused.set(seq, reason);
  }

  async closeOpen(runError: RunError | null): Promise<void> {
    for (const [seq, { name }] of [...this.#open]) {
      const reason = this.#refused.get(seq);
      await this.end(seq, name, {
        status: "failed",
        error: reason
          ? { kind: "invalid_output", message: `The step's end was refused: ${reason}` }
          : runError ?? {
            kind: "invalid_output",
            message: "The run ended without reporting the end of this step",
          },
      });
    }
  }

  #save(seq: number, name: string, startedAt: number, fields: Partial<StepRecord>) {
    const { runId, attempt, redact } = this.run;
    return this.store.saveStep({
      run_id: runId,
      attempt,
      seq,
      name: storedText(redact, name, MAX_STEP_NAME_CHARS),
      status: "running",
      started_at: new Date(startedAt).toISOString(),
      finished_at: null,
      duration_ms: null,
      rows_in: null,
      rows_out: null,
      metadata: {},
      error: null,
      ...fields,
    });
  }
}
