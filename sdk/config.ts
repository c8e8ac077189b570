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
  /**
   * IANA time zone the cron `schedule` is read in.
   * @default {`[scheduler] timezone` in tau.toml, else "UTC"}
   */
  timezone?: string;
  /**
   * Ticks missed while the daemon was down: run `"none"` of them, the `"latest"`, or `"all"`
   * (at most 100).
   * @default {"latest"}
   */
  catchup?: "none" | "latest" | "all";
  /**
   * A tick that comes while a run of this pipeline is still active: `"skip"` it (recorded as a
   * skipped run), `"queue"` it until the active run ends, or `"allow"` it to run alongside.
   * @default {"skip"}
   */
  overlap?: "skip" | "queue" | "allow";
  /** Runs of this pipeline that may execute at once. @default {no limit but the global one} */
  concurrency?: number;
  /**
   * Pipelines that must succeed before this one runs: when they all succeed in one logical run
   * (a schedule instant, or a run started with `--downstream`), this one is triggered.
   */
  dependsOn?: string[];
  /** Named connections from `tau.toml`; each grants the run its host and credentials. */
  connections?: string[];
  /** Environment variables the run may read through `ctx.secret()`. */
  secrets?: string[];
  /** Extra hosts (`host` or `host:port`) the run may reach, e.g. for inline connectors. */
  net?: string[];
  /**
   * Extra attempts after a failure.
   * @default {`[scheduler] retries`, else 0}
   */
  retries?: number;
  /**
   * Delay before the first retry; doubles (with ±20% jitter) on each further attempt.
   * @default {`[scheduler] retry_delay`, else "2s"}
   */
  retryDelay?: Duration;
  /**
   * Wall-clock limit of one attempt; the run is killed when it passes.
   * @default {`[scheduler] timeout`, else "1h"}
   */
  timeout?: Duration;
  /** Free-form labels. */
  tags?: string[];
  /**
   * Only workers started with this tag run it (`taud --role worker --tags gpu`).
   * @default {any worker}
   */
  pool?: string;
  /**
   * Resource limits of each run; unset ones come from `[sandbox]` in tau.toml, and none may
   * exceed `[sandbox.ceiling]`. Exceeding one ends the run with the error kind in parentheses.
   */
  limits?: {
    /**
     * V8 heap in MiB, never more than `memoryMb` (`memory_limit`).
     * @default {`[sandbox] heap_mb`, else 512}
     */
    heapMb?: number;
    /**
     * Resident memory of the whole run in MiB, ArrayBuffers and the DuckDB engine working for
     * it included (`memory_limit`).
     * @default {`[sandbox] memory_mb`, else 1024}
     */
    memoryMb?: number;
    /**
     * CPU time, the DuckDB engine's included (`cpu_limit`).
     * @default {`[sandbox] cpu_seconds`, else 3600}
     */
    cpuSeconds?: number;
    /**
     * MiB in the scratch folder and the run's Deno cache folder (`disk_limit`); the run's
     * permission audit log is held to the same size on its own (`audit_limit`).
     * @default {`[sandbox] disk_mb`, else 1024}
     */
    diskMb?: number;
    /**
     * MiB printed (`output_limit`).
     * @default {`[sandbox] max_output_bytes`, else 10 MiB}
     */
    outputMb?: number;
    /**
     * MiB of requests to Tau's side, such as DuckDB statements and their parameters (`request_limit`).
     * @default {`[sandbox] max_request_bytes`, else 4096 MiB}
     */
    requestMb?: number;
    /**
     * Logs, steps and requests sent to Tau (`event_limit`).
     * @default {`[sandbox] max_events`, else 1_000_000}
     */
    events?: number;
  };
  /**
   * What Tau does when a run ends failed after its retries: `"off"` nothing, `"diagnose"`
   * stores a diagnosis with the run (`tau heal`), `"auto"` also asks the model for a fix.
   * @default {`[ai] on_failure`, else "diagnose"}
   */
  heal?: "off" | "diagnose" | "auto";
}
