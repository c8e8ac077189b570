/**
 * What a finished run means for the pipelines downstream of it. A logical run (one schedule
 * instant, or one `tau run --downstream`) flows through the graph:
 * - a downstream pipeline starts once every upstream taking part in the logical run succeeded
 *   in it (`trigger: "dependency"`, once per logical run);
 * - if one of them ended otherwise, it is recorded as `skipped` with the reason, and so are its
 *   own descendants;
 * - upstreams that take no part (nothing upstream of them ran in this logical run, and they
 *   did not run themselves) are not waited for.
 */
import type { RunRequest } from "../runner/options.ts";
import type { NewRun, RunRecord, Store } from "../store/mod.ts";
import { TERMINAL_STATUSES } from "../store/mod.ts";
import { buildGraph, type Graph, reachable } from "./dag.ts";

export interface CascadeDeps {
  store: Store;
  prepare(name: string, request: RunRequest): Promise<NewRun>;
  dispatch(): Promise<void>;
}

export class Cascade {
  #queue: Promise<void> = Promise.resolve();

  constructor(private readonly deps: CascadeDeps) {}

  /** Handles a finished run; evaluations are serialized so two upstreams finishing together
   * cannot both trigger the same downstream run. */
  onFinished(run: RunRecord): Promise<void> {
    if (!run.downstream || !run.logical_run) return Promise.resolve();
    const next = this.#queue.then(() => this.#evaluate(run));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #evaluate(finished: RunRecord): Promise<void> {
    const { store } = this.deps;
    const logical = finished.logical_run as string;
    const pipelines = (await store.listPipelines()).map((p) => p.name);
    const graph = buildGraph(pipelines, await store.listDependencies());
    let created = false;
    const pending = [finished];
    while (pending.length > 0) {
      const run = pending.shift() as RunRecord;
      for (const name of graph.downstream.get(run.pipeline) ?? []) {
        const next = await this.#decide(graph, logical, name, run);
        if (!next) continue;
        created = true;
        if (next.status === "skipped") pending.push(next);
      }
    }
    if (created) await this.deps.dispatch();
  }

  /** Starts, skips, or leaves waiting one downstream pipeline; returns a created run. */
  async #decide(graph: Graph, logical: string, name: string, trigger: RunRecord) {
    const { store } = this.deps;
    const runs = await store.listLogicalRun(logical);
    if (runs.some((r) => r.pipeline === name)) return null;
    const latest = new Map<string, RunRecord>();
    for (const r of runs) latest.set(r.pipeline, r); // oldest first: the last one wins
    // Pipelines taking part: those that ran, and everything downstream of them.
    const taking = new Set(latest.keys());
    for (const ran of latest.keys()) {
      for (const d of reachable(graph, ran, "downstream")) taking.add(d);
    }
    const upstreams = (graph.upstream.get(name) ?? []).filter((u) => taking.has(u));
    const failed = upstreams.map((u) => latest.get(u))
      .find((r) => r && r.status !== "success" && TERMINAL_STATUSES.includes(r.status));
    const request: RunRequest = {
      trigger: "dependency",
      logical_run: logical,
      scheduled_at: trigger.scheduled_at,
      downstream: true,
    };
    if (failed) {
      return await store.createDependencyRun(
        await this.deps.prepare(name, {
          ...request,
          skipped: {
            kind: "upstream_failed",
            message:
              `Skipped: upstream ${failed.pipeline} ended ${failed.status} (run ${failed.run_id})`,
            hint: `inspect it with tau inspect ${failed.pipeline} --last-run`,
          },
        }),
      );
    }
    const done = upstreams.every((u) => latest.get(u)?.status === "success");
    if (!done) return null; // an upstream in this logical run has not finished yet
    return await store.createDependencyRun(await this.deps.prepare(name, request));
  }
}
