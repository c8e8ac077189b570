/**
 * Schedules and dependencies come from two places: the pipeline file (`schedule`, `every`,
 * `timezone`, `dependsOn`) and the CLI (`tau deploy --schedule`, `tau schedule`,
 * `tau depends --on`). The last explicit change wins: a deploy applies the file's values only
 * when they differ from the previous version's file (or on the first deploy), so redeploying
 * unchanged declarations never undoes a `tau schedule` — nor resets a schedule's tick count.
 */
import { TauError } from "../core/errors.ts";
import type { PipelineMetadata } from "../metadata/schema.ts";
import { timezoneError } from "../core/validators.ts";
import type { ScheduleInput, Store } from "../store/mod.ts";
import { checkDependencies } from "./dag.ts";
import { specError } from "./fire_times.ts";

export function scheduleOf(m: PipelineMetadata): ScheduleInput | null {
  if (m.schedule) return { cron: m.schedule, every_s: null, timezone: m.timezone };
  if (m.every) return { cron: null, every_s: m.every, timezone: null };
  return null;
}

const sameSchedule = (a: ScheduleInput | null, b: ScheduleInput | null) =>
  JSON.stringify(a) === JSON.stringify(b);

/** Refuses what a deploy would declare before anything is stored. */
export async function checkDeclarations(
  store: Store,
  metadata: PipelineMetadata,
  previous: PipelineMetadata | null,
): Promise<void> {
  const changed = !previous ||
    JSON.stringify(previous.depends_on) !== JSON.stringify(metadata.depends_on);
  if (!changed) return;
  const deployed = (await store.listPipelines()).map((p) => p.name);
  checkDependencies(metadata.name, metadata.depends_on, deployed, await store.listDependencies());
}

/** Applies the file's declarations after a deploy, where they changed (see above). */
export async function applyDeclarations(
  store: Store,
  metadata: PipelineMetadata,
  previous: PipelineMetadata | null,
  now: Date,
): Promise<void> {
  const schedule = scheduleOf(metadata);
  if (!previous || !sameSchedule(scheduleOf(previous), schedule)) {
    await store.setSchedule(metadata.name, schedule, now);
  }
  if (!previous || JSON.stringify(previous.depends_on) !== JSON.stringify(metadata.depends_on)) {
    await store.setDependencies(metadata.name, metadata.depends_on);
  }
}

/** Validates a schedule given on the command line. */
export function checkSchedule(input: ScheduleInput): void {
  const tz = input.timezone ? timezoneError(input.timezone) : undefined;
  const error = tz ?? specError(
    input.cron !== null
      ? { kind: "cron", expression: input.cron, timezone: input.timezone ?? "UTC" }
      : { kind: "every", seconds: input.every_s ?? 0, anchor: new Date() },
  );
  if (error) {
    throw new TauError("invalid_schedule", `Invalid schedule: ${error}`, {
      hint: 'use a cron expression such as "0 6 * * *", or --every SECONDS (a positive integer)',
    });
  }
}
