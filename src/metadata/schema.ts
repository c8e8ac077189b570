/**
 * Validation of a pipeline's declared metadata. The SDK hands over the camelCase config it was
 * given; deploy validates it here (trusted side) and stores it in snake_case. Unknown keys are
 * refused so a typo (`secret:` for `secrets:`) cannot silently drop a declaration.
 */
import { z } from "zod";
import { specError } from "../scheduler/fire_times.ts";
import { parseDuration } from "../core/duration.ts";
import { duration, timezone } from "../core/validators.ts";
import type { DeclaredLimits } from "../sandbox/limits.ts";

const NAME = /^[a-zA-Z][a-zA-Z0-9_-]{0,62}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
// Variables the runtime itself sets or the daemon holds; a pipeline may never read or replace them.
const RESERVED_ENV = /^(TAU_.*|DENO_.*|HOME|TMPDIR|PATH|NO_COLOR)$/i;
// A host name or IP literal, optionally with a port: no scheme, path, wildcard or user info.
const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9.-]{0,251}[a-zA-Z0-9])?)(?::\d{1,5})?$/;

export const pipelineName = z.string().regex(NAME, {
  message: "must start with a letter and hold only letters, digits, '_' or '-' (max 63)",
});

/** Why a cron expression is refused (the scheduler's own rules), or undefined. */
export function cronError(expression: string): string | undefined {
  return specError({ kind: "cron", expression, timezone: "UTC" });
}

export const cronExpression = z.string().superRefine((value, ctx) => {
  const error = cronError(value);
  if (error) ctx.addIssue({ code: "custom", message: error });
});

const unique = <T extends z.ZodType<string>>(item: T) =>
  z.array(item).max(100).refine((list) => new Set(list).size === list.length, {
    message: "must not contain duplicates",
  });

export const pipelineConfigSchema = z.strictObject({
  name: pipelineName,
  description: z.string().max(2000).optional(),
  schedule: cronExpression.optional(),
  every: z.number().int().positive().optional(),
  dependsOn: unique(pipelineName).optional(),
  connections: unique(z.string().regex(NAME, { message: "invalid connection name" })).optional(),
  secrets: unique(
    z.string().regex(ENV_NAME, { message: "invalid environment variable name" }).refine(
      (name) => !RESERVED_ENV.test(name),
      { message: "is reserved for Tau and Deno (TAU_*, DENO_*, HOME, TMPDIR, PATH)" },
    ),
  ).optional(),
  net: unique(
    z.string().regex(HOST, {
      message: 'must be a host or host:port, e.g. "api.example.com" or "db.internal:5432"',
    }),
  ).optional(),
  timezone: timezone.optional(),
  catchup: z.enum(["none", "latest", "all"]).optional(),
  overlap: z.enum(["skip", "queue", "allow"]).optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
  retries: z.number().int().min(0).max(10).optional(),
  retryDelay: duration.optional(),
  timeout: duration.optional(),
  tags: unique(z.string().min(1).max(64)).optional(),
  pool: z.string().regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, {
    message: "must be a worker tag: letters, digits, '_', '.', '-' (max 63)",
  }).optional(),
  limits: z.strictObject({
    heapMb: z.number().int().min(16).optional(),
    memoryMb: z.number().int().min(64).optional(),
    cpuSeconds: z.number().int().min(1).optional(),
    diskMb: z.number().int().min(1).optional(),
    outputMb: z.number().int().min(1).optional(),
    requestMb: z.number().int().min(1).optional(),
    events: z.number().int().min(100).optional(),
  }).optional(),
  heal: z.enum(["off", "diagnose", "auto"]).optional(),
}).refine((config) => !(config.schedule && config.every), {
  message: "declare either schedule or every, not both",
  path: ["schedule"],
});

export type PipelineConfig = z.infer<typeof pipelineConfigSchema>;

/** The validated metadata in the shape stored and printed (snake_case, defaults applied). */
export interface PipelineMetadata {
  name: string;
  description: string | null;
  schedule: string | null;
  every: number | null;
  depends_on: string[];
  connections: string[];
  secrets: string[];
  net: string[];
  /** IANA zone of `schedule`; null: `[scheduler] timezone`. */
  timezone: string | null;
  /** Ticks missed while the daemon was down: run none, the latest, or all (bounded). */
  catchup: "none" | "latest" | "all";
  /** A tick while a run of this pipeline is active: skip it, queue it, or run alongside. */
  overlap: "skip" | "queue" | "allow";
  /** Runs of this pipeline executing at once; null: no limit beyond the global one. */
  concurrency: number | null;
  /** null: the `[scheduler]` default (likewise for the next two). */
  retries: number | null;
  retry_delay_ms: number | null;
  timeout_ms: number | null;
  tags: string[];
  /** Only workers started with this tag run it (`taud --role worker --tags …`); null: any. */
  pool?: string | null;
  /** Resource limits the pipeline asked for; absent in metadata stored before they existed. */
  limits?: DeclaredLimits;
  /** What a failed run gets (diagnosis, auto heal); null: `[ai] on_failure`. */
  heal?: "off" | "diagnose" | "auto" | null;
}

/** What a run uses where its pipeline declares nothing (`[scheduler]` in tau.toml). */
export interface RunDefaults {
  retries: number;
  retry_delay_ms: number;
  timeout_ms: number;
}

export const RUN_DEFAULTS: RunDefaults = {
  retries: 0,
  retry_delay_ms: 2_000,
  timeout_ms: 60 * 60 * 1000,
};

/** The metadata a run executes with: undeclared limits take the daemon's defaults. */
export function effectiveMetadata(
  metadata: PipelineMetadata,
  defaults: RunDefaults = RUN_DEFAULTS,
): PipelineMetadata & RunDefaults {
  return {
    ...metadata,
    retries: metadata.retries ?? defaults.retries,
    retry_delay_ms: metadata.retry_delay_ms ?? defaults.retry_delay_ms,
    timeout_ms: metadata.timeout_ms ?? defaults.timeout_ms,
  };
}

export type ValidationResult =
  | { ok: true; metadata: PipelineMetadata }
  | { ok: false; issues: { field: string; message: string }[] };

/** Validates raw config from a pipeline file; field paths are given in the author's camelCase. */
export function validatePipelineConfig(raw: unknown): ValidationResult {
  const parsed = pipelineConfigSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      issues: parsed.error.issues.map((issue) => ({
        field: issue.path.map(String).join(".") || "(config)",
        message: issue.message,
      })),
    };
  }
  const c = parsed.data;
  return {
    ok: true,
    metadata: {
      name: c.name,
      description: c.description ?? null,
      schedule: c.schedule ?? null,
      every: c.every ?? null,
      depends_on: c.dependsOn ?? [],
      connections: c.connections ?? [],
      secrets: c.secrets ?? [],
      net: c.net ?? [],
      timezone: c.timezone ?? null,
      catchup: c.catchup ?? "latest",
      overlap: c.overlap ?? "skip",
      concurrency: c.concurrency ?? null,
      retries: c.retries ?? null,
      retry_delay_ms: c.retryDelay === undefined ? null : parseDuration(c.retryDelay) as number,
      timeout_ms: c.timeout === undefined ? null : parseDuration(c.timeout) as number,
      tags: c.tags ?? [],
      pool: c.pool ?? null,
      limits: {
        heap_mb: c.limits?.heapMb ?? null,
        memory_mb: c.limits?.memoryMb ?? null,
        cpu_s: c.limits?.cpuSeconds ?? null,
        disk_mb: c.limits?.diskMb ?? null,
        output_mb: c.limits?.outputMb ?? null,
        request_mb: c.limits?.requestMb ?? null,
        events: c.limits?.events ?? null,
      },
      heal: c.heal ?? null,
    },
  };
}

/**
 * The metadata of a stored pipeline or version. It was validated at deploy and stored as this
 * shape, so reading it back is a view, not a parse (the one place that says so).
 */
export function storedMetadata(record: { metadata: unknown }): PipelineMetadata {
  return record.metadata as PipelineMetadata;
}
