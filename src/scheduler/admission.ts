/**
 * Which queued runs may start now. Pure, so the rules are easy to read and test:
 * - at most `maxConcurrent` runs execute at once, daemon-wide;
 * - at most `concurrency` runs of one pipeline (when the pipeline sets it);
 * - an `exclusive` run (overlap "queue") starts only when its pipeline has none running;
 * - fairness: pipelines take turns, oldest waiting head first, so one pipeline with a long
 *   queue cannot starve the others; within a pipeline runs start in creation order.
 */

export interface Waiting {
  run_id: string;
  pipeline: string;
  exclusive: boolean;
}

export interface Limits {
  maxConcurrent: number;
  /** Per-pipeline limit, or null for none. */
  concurrencyOf(pipeline: string): number | null;
}

/** `queued` oldest first; `running` maps a pipeline to its number of executing runs. */
export function admit(queued: Waiting[], running: Map<string, number>, limits: Limits): string[] {
  const counts = new Map(running);
  let total = [...counts.values()].reduce((a, b) => a + b, 0);
  const lanes = new Map<string, Waiting[]>();
  for (const run of queued) {
    const lane = lanes.get(run.pipeline);
    if (lane) lane.push(run);
    else lanes.set(run.pipeline, [run]);
  }
  const started: string[] = [];
  // Round-robin over pipelines in order of their oldest waiting run (Map keeps that order).
  let progress = true;
  while (progress && total < limits.maxConcurrent) {
    progress = false;
    for (const [pipeline, lane] of lanes) {
      if (total >= limits.maxConcurrent) break;
      const head = lane[0];
      if (!head) continue;
      const busy = counts.get(pipeline) ?? 0;
      const limit = limits.concurrencyOf(pipeline);
      // The head blocks its lane: runs of one pipeline never overtake each other.
      if ((limit !== null && busy >= limit) || (head.exclusive && busy > 0)) continue;
      lane.shift();
      counts.set(pipeline, busy + 1);
      total++;
      started.push(head.run_id);
      progress = true;
    }
  }
  return started;
}

/**
 * The admission rule as a claim applies it (see `Store.claimRuns`): every queued candidate
 * that the per-pipeline limits let start, in fair order; the claim keeps as many as the
 * worker has free slots.
 */
export function fairOrder<T extends Waiting>(
  queued: T[],
  running: Map<string, number>,
  concurrency: Map<string, number | null>,
): T[] {
  const byId = new Map(queued.map((run) => [run.run_id, run]));
  return admit(queued, running, {
    maxConcurrent: Infinity,
    concurrencyOf: (pipeline) => concurrency.get(pipeline) ?? null,
  }).map((id) => byId.get(id)!);
}
