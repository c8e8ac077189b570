/**
 * When a logical run (one `tau run --downstream`, one schedule instant) is over: every run in
 * it has ended, and the cascade has given each pipeline downstream of a finished run its own
 * run (started or skipped). `src/scheduler/cascade.ts` creates those runs; this only reads.
 */
import type { RunRecord } from "../store/mod.ts";
import { TERMINAL_STATUSES } from "../store/mod.ts";
import type { Graph } from "./dag.ts";

export interface LogicalRunState {
  /** Every run has ended and none is still to be created. */
  complete: boolean;
  /** Pipelines downstream of a finished run that have no run in it yet, sorted. */
  pending: string[];
}

/** The state of a logical run, given the pipeline graph and its runs. */
export function logicalRunState(graph: Graph, runs: RunRecord[]): LogicalRunState {
  const present = new Set(runs.map((r) => r.pipeline));
  const pending = new Set<string>();
  for (const run of runs) {
    if (!run.downstream || !TERMINAL_STATUSES.includes(run.status)) continue;
    for (const name of graph.downstream.get(run.pipeline) ?? []) {
      if (!present.has(name)) pending.add(name);
    }
  }
  const ended = runs.every((r) => TERMINAL_STATUSES.includes(r.status));
  return { complete: ended && pending.size === 0, pending: [...pending].sort() };
}
