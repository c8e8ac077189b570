/**
 * What a pipeline declares about itself. Everything a run may touch is derived from these
 * fields: `connections` and `net` become its network allow-list, `secrets` its environment.
 *
 * @module
 */

/** A duration: seconds as a number, or a string such as `"500ms"`, `"30s"`, `"10m"`, `"2h"`. */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

/** Metadata of a pipeline, validated when it is deployed (unknown keys are refused). */
export interface PipelineConfig {
  /** Unique name: a letter, then letters, digits, `_` or `-` (max 63). */
  name: string;
  /** One line for humans and agents reading `tau list`. */
  description?: string;
  /** Cron expression (5 or 6 fields), e.g. `"0 6 * * *"`. */
  schedule?: string;
  /** Run every N seconds instead of a cron schedule. */
  every?: number;
  /** Pipelines that must succeed before this one runs. */
  dependsOn?: string[];
  /** Named connections from `tau.toml`; each grants the run its host and credentials. */
  connections?: string[];
  /** Environment variables the run may read through `ctx.secret()`. */
  secrets?: string[];
  /** Extra hosts (`host` or `host:port`) the run may reach, e.g. for inline connectors. */
  net?: string[];
  /**
   * Extra attempts after a failure.
   * @default {0}
   */
  retries?: number;
  /**
   * Delay before the first retry; doubles on each further attempt.
   * @default {"2s"}
   */
  retryDelay?: Duration;
  /**
   * Wall-clock limit of one attempt; the run is killed when it passes.
   * @default {"1h"}
   */
  timeout?: Duration;
  /** Free-form labels. */
  tags?: string[];
}
