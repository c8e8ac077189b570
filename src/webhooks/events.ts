/**
 * What each finished thing announces (pure functions, table-tested): a run's events from its
 * status and the status of the run before it, the payload of an event, and which webhooks an
 * event goes to.
 */
import type { HealRecord, Json, RunRecord, RunStatus, TickRecord } from "../store/mod.ts";
import type { WebhookEvent } from "./config.ts";
import type { Webhook } from "./registry.ts";

/** The events a run that ended with `status` announces (`previous`: the run before it). */
export function runEvents(status: RunStatus, previous: RunStatus | null): WebhookEvent[] {
  if (status === "success") {
    return previous === "failed" || previous === "timed_out"
      ? ["run.succeeded", "run.recovered"]
      : ["run.succeeded"];
  }
  if (status === "failed" || status === "timed_out") return ["run.failed"];
  if (status === "skipped") return ["run.skipped"];
  return []; // cancelled: someone asked for it
}

/** Where payload links point: the API, and the dashboard when there is one. */
export interface Links {
  api: string;
  dashboard: string | null;
}

export function runSummary(run: RunRecord, links: Links): Record<string, Json> {
  const error = run.error
    ? {
      kind: run.error.kind,
      message: run.error.message,
      step: run.error.step ?? null,
      hint: run.error.hint ?? null,
    }
    : null;
  return {
    run: {
      run_id: run.run_id,
      pipeline: run.pipeline,
      version: run.version,
      status: run.status,
      trigger: run.trigger,
      attempt: run.attempt,
      started_at: run.started_at,
      finished_at: run.finished_at,
      duration_ms: run.duration_ms,
      error,
    },
    links: {
      run: `${links.api}/api/v1/runs/${run.run_id}`,
      dashboard: links.dashboard ? `${links.dashboard}/runs/${run.run_id}` : null,
      cli: `tau inspect ${run.pipeline} --run ${run.run_id}`,
    },
  };
}

export function healSummary(heal: HealRecord, links: Links): Record<string, Json> {
  return {
    heal: {
      id: heal.id,
      pipeline: heal.pipeline,
      run_id: heal.run_id,
      status: heal.status,
      created_at: heal.created_at,
      finished_at: heal.finished_at,
    },
    links: {
      pipeline: `${links.api}/api/v1/pipelines/${heal.pipeline}`,
      dashboard: links.dashboard ? `${links.dashboard}/pipelines/${heal.pipeline}` : null,
      cli: `tau versions ${heal.pipeline}`,
    },
  };
}

export function tickSummary(tick: TickRecord, links: Links): Record<string, Json> {
  return {
    tick: {
      pipeline: tick.pipeline,
      scheduled_at: tick.scheduled_at,
      detail: tick.detail,
      recorded_at: tick.recorded_at,
    },
    links: {
      pipeline: `${links.api}/api/v1/pipelines/${tick.pipeline}`,
      dashboard: links.dashboard ? `${links.dashboard}/pipelines/${tick.pipeline}` : null,
      cli: `tau schedule ${tick.pipeline}`,
    },
  };
}

/** Whether `hook` wants `event` of `pipeline` (whose tags are `tags`). */
export function wants(
  hook: Webhook,
  event: WebhookEvent,
  pipeline: string,
  tags: readonly string[],
): boolean {
  if (!(hook.events as string[]).includes(event)) return false;
  if (hook.pipelines.length > 0 && !hook.pipelines.includes(pipeline)) return false;
  if (hook.tags.length > 0 && !hook.tags.some((t) => tags.includes(t))) return false;
  return true;
}

/** The line a Slack incoming webhook shows for an event. */
export function slackText(event: string, payload: Record<string, Json>): string {
  const run = payload.run as Record<string, Json> | undefined;
  const heal = payload.heal as Record<string, Json> | undefined;
  const tick = payload.tick as Record<string, Json> | undefined;
  const links = (payload.links ?? {}) as Record<string, Json>;
  const link = links.dashboard ?? links.run ?? links.pipeline ?? null;
  const what = run
    ? `run ${run.run_id} of *${run.pipeline}* v${run.version}: ${run.status}` +
      (run.error ? ` — ${(run.error as Record<string, Json>).message}` : "")
    : heal
    ? `heal ${heal.id} of *${heal.pipeline}*: ${heal.status}`
    : tick
    ? `*${tick.pipeline}* missed its tick at ${tick.scheduled_at}`
    : "test delivery from Tau";
  return `[${event}] ${what}${link ? ` <${link}>` : ""}`.slice(0, 3000);
}
