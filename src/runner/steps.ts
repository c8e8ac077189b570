/** A run attempt's steps as the parent stores them. */
import type { RunError, RunStatus, StepRecord, Store } from "../store/mod.ts";
import { MAX_STEP_NAME_CHARS, storedText } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";

/**
 * The run's steps as stored: stamped with the parent's clock when their events arrive, and any
 * step still open when the run ends is closed with the run's status and the reason.
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

  /** The step started last of those still open (where the run was when it ended), or null. */
  lastOpen(): string | null {
    let last: { seq: number; name: string } | null = null;
    for (const [seq, { name }] of this.#open) if (!last || seq > last.seq) last = { seq, name };
    return last?.name ?? null;
  }

  /**
   * Closes the steps the run never reported the end of: a run that timed out or was cancelled
   * leaves them `timed_out` or `cancelled`, any other end `failed`.
   */
  async closeOpen(runStatus: RunStatus, runError: RunError | null): Promise<void> {
    const status = runStatus === "timed_out" || runStatus === "cancelled" ? runStatus : "failed";
    for (const [seq, { name }] of [...this.#open]) {
      const reason = this.#refused.get(seq);
      await this.end(seq, name, {
        status,
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

/**
 * Closes the steps a run left `running` in the store when no supervisor is left to close them
 * (the daemon died, or Tau itself failed): they take the run's error and end now. Returns the
 * name of the last of them to start, or null.
 */
export async function closeAbandonedSteps(
  store: Store,
  runId: string,
  error: RunError,
): Promise<string | null> {
  const now = new Date();
  let last: string | null = null;
  for (const step of await store.listSteps(runId)) { // in attempt, then start order
    if (step.status !== "running") continue;
    last = step.name;
    await store.saveStep({
      ...step,
      status: "failed",
      finished_at: now.toISOString(),
      duration_ms: Math.max(0, now.getTime() - Date.parse(step.started_at)),
      error,
    });
  }
  return last;
}
