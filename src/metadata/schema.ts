/**
 * Validation of a pipeline's declared metadata. The SDK hands over the camelCase config it was
 * given; deploy validates it here (trusted side) and stores it in snake_case. Unknown keys are
 * refused so a typo (`secret:` for `secrets:`) cannot silently drop a declaration.
 */
import { z } from "zod";
import { Cron } from "croner";
import { parseDuration } from "../core/duration.ts";

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

export function cronError(expression: string): string | undefined {
  try {
    new Cron(expression, { paused: true });
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export const cronExpression = z.string().superRefine((value, ctx) => {
  const error = cronError(value);
  if (error) ctx.addIssue({ code: "custom", message: `invalid cron expression: ${error}` });
});

const duration = z.union([z.string(), z.number()]).superRefine((value, ctx) => {
  if (parseDuration(value) === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `invalid duration ${
        JSON.stringify(value)
      }: use a number of seconds or e.g. "30s", "10m", "2h"`,
    });
  }
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
  retries: z.number().int().min(0).max(10).optional(),
  retryDelay: duration.optional(),
  timeout: duration.optional(),
  tags: unique(z.string().min(1).max(64)).optional(),
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
  retries: number;
  retry_delay_ms: number;
  timeout_ms: number;
  tags: string[];
}

export const DEFAULT_TIMEOUT_MS = 60 * 60 * 1000;
export const DEFAULT_RETRY_DELAY_MS = 2_000;

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
      retries: c.retries ?? 0,
      retry_delay_ms: c.retryDelay === undefined
        ? DEFAULT_RETRY_DELAY_MS
        : parseDuration(c.retryDelay) as number,
      timeout_ms: c.timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(c.timeout) as number,
      tags: c.tags ?? [],
    },
  };
}
