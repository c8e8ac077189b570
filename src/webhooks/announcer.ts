/**
 * Puts events in the outbox. Runs never wait on webhooks: they only write their final status.
 * This pass (every second, in the daemon with the api role) reads what ended and is not yet
 * announced (`webhook_announced`), and in one transaction inserts one delivery per (event,
 * webhook) with a unique `event_key` and marks the subjects announced. A daemon killed anywhere
 * in between announces on its next pass what it had not committed; two daemons announcing at
 * once insert each `event_key` once.
 */
import type { NewDelivery, Store } from "../store/mod.ts";
import type { WebhookEvent } from "./config.ts";
import { healSummary, type Links, runEvents, runSummary, tickSummary, wants } from "./events.ts";
import type { Webhook } from "./registry.ts";
import type { Json } from "../store/mod.ts";

/** Subjects one pass handles at most, per kind. */
const BATCH = 200;

interface Subject {
  key: string;
  pipeline: string;
  events: WebhookEvent[];
  summary: Record<string, Json>;
}

/** One pass: announces what ended since `since`; returns the deliveries made. */
export async function announce(
  store: Store,
  hooks: readonly Webhook[],
  links: Links,
  since: Date,
  now: Date,
): Promise<number> {
  const found = await store.listUnannounced(since, BATCH);
  const subjects: Subject[] = [];
  for (const run of found.runs) {
    const previous = run.status === "success"
      ? await store.previousRunStatus(run.pipeline, run.created_at, run.run_id)
      : null;
    subjects.push({
      key: `run:${run.run_id}`,
      pipeline: run.pipeline,
      events: runEvents(run.status, previous),
      summary: runSummary(run, links),
    });
  }
  for (const heal of found.heals) {
    subjects.push({
      key: `heal:${heal.id}`,
      pipeline: heal.pipeline,
      events: [heal.status === "promoted" ? "heal.promoted" : "heal.failed"],
      summary: healSummary(heal, links),
    });
  }
  for (const tick of found.ticks) {
    subjects.push({
      key: `tick:${tick.pipeline}:${tick.scheduled_at}`,
      pipeline: tick.pipeline,
      events: ["schedule.missed"],
      summary: tickSummary(tick, links),
    });
  }
  if (subjects.length === 0) return 0;
  const tags = await pipelineTags(store, hooks, subjects);
  const deliveries: NewDelivery[] = [];
  for (const s of subjects) {
    for (const event of s.events) {
      for (const hook of hooks) {
        if (!wants(hook, event, s.pipeline, tags.get(s.pipeline) ?? [])) continue;
        deliveries.push(newDelivery(hook.name, event, s.key, s.summary, now));
      }
    }
  }
  return await store.announceEvents(subjects.map((s) => s.key), deliveries, now);
}

/** A delivery of `event` about `subject` to the webhook `hook`. */
export function newDelivery(
  hook: string,
  event: string,
  subject: string,
  summary: Record<string, Json>,
  now: Date,
): NewDelivery {
  const id = `dlv_${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
  const bare = subject.slice(subject.indexOf(":") + 1);
  return {
    id,
    event_key: `${event}:${bare}:${hook}`,
    webhook: hook,
    event,
    subject: bare,
    payload: { id, event, created_at: now.toISOString(), ...summary },
    created_at: now.toISOString(),
  };
}

/** Tags of the subjects' pipelines, looked up only when some webhook filters by tag. */
async function pipelineTags(store: Store, hooks: readonly Webhook[], subjects: Subject[]) {
  const tags = new Map<string, string[]>();
  if (!hooks.some((h) => h.tags.length > 0)) return tags;
  for (const name of new Set(subjects.map((s) => s.pipeline))) {
    const pipeline = await store.getPipeline(name);
    const value = pipeline?.metadata.tags;
    tags.set(name, Array.isArray(value) ? value.map(String) : []);
  }
  return tags;
}
