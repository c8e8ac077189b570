import { assertEquals } from "../../tests/helpers/assert.ts";
import { runEvents, wants } from "./events.ts";
import { nextAttemptAt, retryDelayMs } from "./backoff.ts";
import type { Webhook } from "./registry.ts";
import { bodyOf } from "./send.ts";
import type { DeliveryRecord } from "../store/mod.ts";

Deno.test("runEvents: a run's events from its status and the one before it", () => {
  assertEquals(runEvents("success", null), ["run.succeeded"]);
  assertEquals(runEvents("success", "success"), ["run.succeeded"]);
  assertEquals(runEvents("success", "failed"), ["run.succeeded", "run.recovered"]);
  assertEquals(runEvents("success", "timed_out"), ["run.succeeded", "run.recovered"]);
  assertEquals(runEvents("failed", "success"), ["run.failed"]);
  assertEquals(runEvents("timed_out", null), ["run.failed"]);
  assertEquals(runEvents("skipped", null), ["run.skipped"]);
  assertEquals(runEvents("cancelled", null), []);
});

Deno.test("wants: events, then the pipeline and tag filters", () => {
  const hook = {
    name: "h",
    url: "https://x.example/",
    events: ["run.failed"],
    pipelines: [],
    tags: [],
    secret_env: null,
    format: "json",
    allow_private: false,
    origin: "config",
    created_at: null,
  } as Webhook;
  assertEquals(wants(hook, "run.failed", "a", []), true);
  assertEquals(wants(hook, "run.succeeded", "a", []), false);
  assertEquals(wants({ ...hook, pipelines: ["b"] }, "run.failed", "a", []), false);
  assertEquals(wants({ ...hook, tags: ["prod"] }, "run.failed", "a", ["dev"]), false);
  assertEquals(wants({ ...hook, tags: ["prod"] }, "run.failed", "a", ["prod"]), true);
});

Deno.test("backoff: 5 s, 30 s, 2 min, 10 min, then hourly, and dead past max_age", () => {
  assertEquals([1, 2, 3, 4, 5, 6, 9].map((n) => retryDelayMs(n, 5000)), [
    5000,
    30_000,
    120_000,
    600_000,
    3_600_000,
    3_600_000,
    3_600_000,
  ]);
  const t0 = new Date(0);
  assertEquals(nextAttemptAt(1, t0, t0, 5000, 86_400_000)?.getTime(), 5000);
  assertEquals(nextAttemptAt(9, new Date(86_000_000), t0, 5000, 86_400_000), null);
});

Deno.test("the slack format is one line of text with the event, the run and its link", () => {
  const hook = { format: "slack" } as Webhook;
  const delivery = {
    event: "run.failed",
    payload: {
      run: {
        run_id: "run_1",
        pipeline: "etl",
        version: 3,
        status: "failed",
        error: { message: "boom" },
      },
      links: { run: "http://h/api/v1/runs/run_1", dashboard: "http://h:1/runs/run_1" },
    },
  } as unknown as DeliveryRecord;
  assertEquals(JSON.parse(bodyOf(hook, delivery)), {
    text: "[run.failed] run run_1 of *etl* v3: failed — boom <http://h:1/runs/run_1>",
  });
  assertEquals(JSON.parse(bodyOf({ format: "json" } as Webhook, delivery)), delivery.payload);
});
