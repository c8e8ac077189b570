import type { AsyncLocalStorage } from "node:async_hooks";
import { emit } from "./_channel.ts";
import type { SentLevel } from "./_events.ts";
import { type ErrorDetails, errorDetails } from "./_error_details.ts";
import {
  jsonDepthViolation,
  MAX_LINE_CHARS,
  SENT_ERROR_CHARS,
  SENT_LOG_CHARS,
  SENT_STEP_NAME_CHARS,
} from "./_limits.ts";
import type { Connector } from "./connectors/types.ts";
import type { MaterializationConfig } from "./materialize/config.ts";
import type { MaterializeResult } from "./materialize/engine.ts";

/** A step of a run: set its row counts and metadata while it executes. */
export interface Step {
  /** The name given to `ctx.step`, as recorded with the run. */
  readonly name: string;
  /** Rows the step consumed. */
  rowsIn?: number;
  /** Rows the step produced. */
  rowsOut?: number;
  /** Free-form JSON-serializable facts recorded with the step. */
  metadata: Record<string, unknown>;
}

/**
 * Structured logging: `ctx.log("text")` logs at info; `.debug/.info/.warn/.error` choose the
 * level. `message` is formatted as `console.log` would; `fields`, when given, are appended to it
 * as JSON. Each line is tagged with the step it was written in, and secrets are redacted from it
 * before it is stored.
 */
export interface Logger {
  /** Logs at info level. */
  (message: unknown, fields?: Record<string, unknown>): void;
  /** Logs at debug level. */
  debug(message: unknown, fields?: Record<string, unknown>): void;
  /** Logs at info level. */
  info(message: unknown, fields?: Record<string, unknown>): void;
  /** Logs at warn level. */
  warn(message: unknown, fields?: Record<string, unknown>): void;
  /** Logs at error level (logging does not fail the run; throwing does). */
  error(message: unknown, fields?: Record<string, unknown>): void;
}

/** Thrown by `ctx.secret()` for a name the pipeline did not declare in `secrets`. */
export class SecretNotDeclaredError extends Error {
  /** Stable code of this error: the run fails with error kind `undeclared_secret`. */
  readonly code = "undeclared_secret";
  /** Makes the error for secret `name`; its message says how to declare it. */
  constructor(name: string) {
    super(
      `Cannot read secret ${name}: it is not declared; add secrets: [${
        JSON.stringify(name)
      }] to the pipeline config`,
    );
    this.name = "SecretNotDeclaredError";
  }
}

/** Thrown by `ctx.secret()` for a declared name the daemon's environment does not hold. */
export class SecretNotSetError extends Error {
  /** Stable code of this error: the run fails with error kind `secret_not_set`. */
  readonly code = "secret_not_set";
  /** Makes the error for secret `name`. */
  constructor(name: string) {
    super(`Cannot read secret ${name}: it is declared but not set in the daemon's environment`);
    this.name = "SecretNotSetError";
  }
}

/** Thrown by `ctx.connection()` for a name the pipeline did not declare in `connections`. */
export class ConnectionNotDeclaredError extends Error {
  /** Stable code of this error: the run fails with error kind `undeclared_connection`. */
  readonly code = "undeclared_connection";
  /** Makes the error for connection `name`; its message says how to declare it. */
  constructor(name: string) {
    super(
      `Cannot use connection ${name}: it is not declared; add connections: [${
        JSON.stringify(name)
      }] to the pipeline config`,
    );
    this.name = "ConnectionNotDeclaredError";
  }
}

/**
 * What every pipeline function receives as `ctx`: facts about the run (`runId`, `attempt`,
 * `params`, `lastSuccessfulRun`), `log`, `step` to time and count the work, `secret` and
 * `connection` for what the config declares, `materialize` to build tables, and `signal` to stop
 * in time.
 *
 * @example The ctx API at a glance
 * ```ts
 * import { pipeline } from "tau";
 *
 * export default pipeline({
 *   name: "orders_sync",
 *   connections: ["warehouse"],
 *   secrets: ["SHOP_TOKEN"],
 *   net: ["shop.example.com"],
 * }, async (ctx) => {
 *   // Only what changed since the last successful run (everything on the first one).
 *   const since = ctx.lastSuccessfulRun ?? new Date(0);
 *   const limit = Number(ctx.params.limit ?? 1000); // tau run orders_sync --params '{"limit":10}'
 *   ctx.log.info("syncing orders", { since, limit, attempt: ctx.attempt });
 *
 *   const orders = await ctx.step("extract", async (step) => {
 *     const url = `https://shop.example.com/orders?since=${since.toISOString()}&limit=${limit}`;
 *     const res = await fetch(url, {
 *       headers: { authorization: `Bearer ${ctx.secret("SHOP_TOKEN")}` },
 *       signal: ctx.signal, // a cancelled run stops waiting at once
 *     });
 *     const rows: Record<string, unknown>[] = await res.json();
 *     step.rowsOut = rows.length;
 *     return rows;
 *   });
 *
 *   await ctx.step("load", async (step) => {
 *     await using db = await ctx.connection("warehouse");
 *     const loaded = await db.load(orders, { table: "raw_orders", mode: "upsert", mergeKey: "id" });
 *     step.rowsIn = loaded.rows;
 *     step.metadata.schema_changes = loaded.schema_changes;
 *   });
 *
 *   const built = await ctx.materialize({
 *     strategy: "incremental",
 *     targetTable: "orders",
 *     sourceQuery: "SELECT * FROM raw_orders",
 *     uniqueKey: "id",
 *   }, { connection: "warehouse" });
 *   return { run: ctx.runId, extracted: orders.length, inserted: built.rows_inserted };
 * });
 * ```
 */
export interface PipelineContext {
  /** Id of this run, e.g. `run_lx2k3…`. */
  readonly runId: string;
  /** Name of the pipeline being run. */
  readonly pipelineName: string;
  /** Attempt number, from 1; greater than 1 when the run is a retry. */
  readonly attempt: number;
  /** Parameters given with `tau run NAME --params '{…}'`. */
  readonly params: Readonly<Record<string, unknown>>;
  /** When the last successful run of this pipeline finished, or null if none has. */
  readonly lastSuccessfulRun: Date | null;
  /**
   * The schedule instant this run is for: set on scheduled runs, on each run of a backfill
   * (`tau backfill`), and on the downstream runs they trigger; null on a manual run.
   */
  readonly scheduledAt: Date | null;
  /**
   * The instant whose data this run processes: `scheduledAt` when set, else when the run was
   * created. Key time windows on it rather than on the clock, so a backfilled or late run
   * processes its own period: `const day = ctx.logicalDate.toISOString().slice(0, 10)`.
   */
  readonly logicalDate: Date;
  /** Structured logging into the run's log. */
  readonly log: Logger;
  /**
   * Aborted when the run must stop: it was cancelled (`tau cancel`), the daemon is draining
   * (the run will run again), or its timeout is near (the last tenth of it, at most 1 s). The
   * run is killed a moment later, so use it to stop early and say why: pass it to `fetch`
   * (`fetch(url, { signal: ctx.signal })`) and to your own waits. Connections opened with
   * `ctx.connection()` are closed when it aborts, which ends their requests in flight.
   * `ctx.signal.reason` is a `DOMException` (`AbortError`, or `TimeoutError` for the timeout).
   */
  readonly signal: AbortSignal;
  /**
   * Runs `fn` as a named step, recording its timing, row counts, metadata and error. Steps may
   * run concurrently (`Promise.all`); each log line is tagged with the step it was written in.
   */
  step<T>(name: string, fn: (step: Step) => T | Promise<T>): Promise<T>;
  /** The value of a declared secret. */
  secret(name: string): string;
  /**
   * A declared named connection from tau.toml. Use with `await using` so it closes itself:
   * `await using db = await ctx.connection("warehouse")`.
   */
  connection(name: string): Promise<Connector>;
  /**
   * Builds `config.targetTable` from `config.sourceQuery` with a materialization strategy, in
   * the SQL dialect of `connection` (a connector, or the name of a declared connection, which
   * is opened and closed around the call). See `tau/materializations` for the strategies.
   */
  materialize(
    config: MaterializationConfig,
    options: { connection: Connector | string },
  ): Promise<MaterializeResult>;
}

/** Formats log arguments the way `console.log` would. */
export function formatArgs(args: unknown[]): string {
  return args.map((a) => typeof a === "string" ? a : Deno.inspect(a, { colors: false, depth: 6 }))
    .join(" ");
}

/**
 * The innermost step of each async call chain, used to tag logs and errors: concurrent steps
 * each see their own, where one module-level stack would mix them up. Loaded by the first step:
 * importing a `node:` module costs a Deno process ~12 ms of CPU, which a run without steps
 * need not pay. One promise, so that steps starting together share one scope.
 */
let stepScope: AsyncLocalStorage<string> | undefined;
let stepScopeLoading: Promise<AsyncLocalStorage<string>> | undefined;

function loadStepScope(): Promise<AsyncLocalStorage<string>> {
  return stepScopeLoading ??= import("node:async_hooks").then((m) =>
    stepScope = new m.AsyncLocalStorage<string>()
  );
}

export function logEvent(
  level: SentLevel,
  message: unknown,
  fields?: Record<string, unknown>,
): void {
  const text = formatArgs([message]);
  emit({
    type: "log",
    level,
    step: currentStep(),
    message: clip(fields ? `${text} ${safeJson(fields)}` : text, SENT_LOG_CHARS),
  });
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

/** The innermost step of the calling code, as sent on the channel. */
export function currentStep(): string | null {
  const name = stepScope?.getStore();
  return name === undefined ? null : clip(name, SENT_STEP_NAME_CHARS);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return formatArgs([value]);
  }
}

export interface ContextInit {
  runId: string;
  pipelineName: string;
  attempt: number;
  params: Record<string, unknown>;
  lastSuccessfulRun: string | null;
  /** The run's schedule instant, ISO 8601. @default {null} */
  scheduledAt?: string | null;
  /** ISO 8601. @default {scheduledAt, else the time the context is made} */
  logicalDate?: string;
  secrets: string[];
  /**
   * The signal aborted when the trusted side stops the run; called on first use of it.
   * @default {a signal that never aborts}
   */
  signal?: () => AbortSignal;
  connections?: Record<string, { type: string; options: Record<string, unknown> }>;
  /** Builds a named connection's connector (given by the harness, so pipelines that use no
   * connection never load connector code). */
  connect?: (
    name: string,
    spec: { type: string; options: Record<string, unknown> },
  ) => Promise<Connector>;
}

/** Builds the context handed to the pipeline function. */
export function createContext(init: ContextInit): PipelineContext {
  const log = Object.assign(
    (message: unknown, fields?: Record<string, unknown>) => logEvent("info", message, fields),
    {
      debug: (m: unknown, f?: Record<string, unknown>) => logEvent("debug", m, f),
      info: (m: unknown, f?: Record<string, unknown>) => logEvent("info", m, f),
      warn: (m: unknown, f?: Record<string, unknown>) => logEvent("warn", m, f),
      error: (m: unknown, f?: Record<string, unknown>) => logEvent("error", m, f),
    },
  );
  const declared = new Set(init.secrets);
  const signal = init.signal ?? (() => never);
  let stepSeq = 0;

  const context: PipelineContext = Object.freeze({
    runId: init.runId,
    pipelineName: init.pipelineName,
    attempt: init.attempt,
    params: Object.freeze({ ...init.params }),
    lastSuccessfulRun: init.lastSuccessfulRun ? new Date(init.lastSuccessfulRun) : null,
    scheduledAt: init.scheduledAt ? new Date(init.scheduledAt) : null,
    logicalDate: new Date(init.logicalDate ?? init.scheduledAt ?? Date.now()),
    log,
    get signal() {
      return signal();
    },
    async connection(name: string): Promise<Connector> {
      const spec = init.connections?.[name];
      if (!spec) throw new ConnectionNotDeclaredError(name);
      if (!init.connect) throw new Error("Connections are not available outside a Tau run");
      return closedOnAbort(await init.connect(name, spec), signal());
    },
    async materialize(
      config: MaterializationConfig,
      options: { connection: Connector | string },
    ): Promise<MaterializeResult> {
      const target = options?.connection;
      const opened = typeof target === "string" ? await context.connection(target) : null;
      try {
        // Loaded on first use: pipelines that never materialize do not pay for the engine.
        const { materialize } = await import("./materialize/engine.ts");
        const result = await materialize(config, { connection: opened ?? target as Connector });
        logEvent("info", `materialized ${result.table} (${result.strategy})`, {
          first_run: result.first_run,
          rows_inserted: result.rows_inserted,
          rows_updated: result.rows_updated,
          rows_deleted: result.rows_deleted,
          duration_ms: result.duration_ms,
        });
        return result;
      } finally {
        await opened?.close();
      }
    },
    secret(name: string): string {
      if (!declared.has(name)) throw new SecretNotDeclaredError(name);
      const value = Deno.env.get(name);
      if (value === undefined) throw new SecretNotSetError(name);
      return value;
    },
    async step<T>(name: string, fn: (step: Step) => T | Promise<T>): Promise<T> {
      const seq = stepSeq++;
      const step: Step = { name, metadata: {} };
      emit({ type: "step_start", seq, name: clip(name, SENT_STEP_NAME_CHARS) });
      try {
        const scope = await loadStepScope();
        const value = await scope.run(name, () => fn(step));
        const problem = metadataProblem(step.metadata);
        if (problem) throw new InvalidOutputError(`Step ${name}: its metadata ${problem}`);
        emit(stepEnd(seq, step, "success"));
        return value;
      } catch (err) {
        emit({ ...stepEnd(seq, step, "failed"), error: describeError(err, name) });
        throw err;
      }
    },
  });
  return context;
}

const never = new AbortController().signal;

/**
 * Closes the connector when the run is told to stop, so that its I/O in flight ends instead of
 * running into the kill; closing it first removes the hook.
 */
function closedOnAbort(connector: Connector, signal: AbortSignal): Connector {
  const close = connector.close.bind(connector);
  const onAbort = () => void close().catch(() => {});
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  connector.close = () => {
    signal.removeEventListener("abort", onAbort);
    return close();
  };
  return connector;
}

function stepEnd(seq: number, step: Step, status: "success" | "failed") {
  return {
    type: "step_end" as const,
    seq,
    name: clip(step.name, SENT_STEP_NAME_CHARS),
    status,
    rows_in: step.rowsIn ?? null,
    rows_out: step.rowsOut ?? null,
    metadata: metadataProblem(step.metadata)
      ? {}
      : jsonSafe(step.metadata) as Record<string, unknown>,
  };
}

/** Step metadata larger than this (as JSON) is refused: its step fails. */
const MAX_METADATA_CHARS = MAX_LINE_CHARS / 2;

/** What keeps step metadata from crossing the channel (too deep, too large), or null. */
function metadataProblem(metadata: unknown): string | null {
  const tooDeep = jsonDepthViolation(metadata);
  if (tooDeep) return `is ${tooDeep}`;
  const json = safeJson(metadata ?? {});
  return json.length > MAX_METADATA_CHARS
    ? `is ${json.length} characters as JSON; at most ${MAX_METADATA_CHARS} are allowed`
    : null;
}

/** A step's metadata or result broke the channel's bounds (kind `invalid_output`). */
export class InvalidOutputError extends Error {
  /** Stable code of this error: the run fails with error kind `invalid_output`. */
  readonly code = "invalid_output";
  constructor(message: string) {
    super(message);
    this.name = "InvalidOutput";
  }
}

/**
 * The codes of Tau's own errors (each class's `code`): the parent maps them to a run error kind.
 * A driver's `code` (a SQLSTATE, an errno) is none of these and stays in `details`.
 */
const SDK_ERROR_CODES: ReadonlySet<string> = new Set([
  "undeclared_secret",
  "secret_not_set",
  "undeclared_connection",
  "invalid_output",
  "invalid_pipeline",
  "schema_change",
]);

/** Errors cross the channel as plain data; the parent classifies them. */
export function describeError(err: unknown, step: string | null) {
  if (err instanceof Error) {
    // The innermost step that failed is recorded once, where the error was first seen.
    const tagged = err as Error & { tauStep?: string; code?: unknown };
    tagged.tauStep ??= step ?? undefined;
    const code = typeof tagged.code === "string" && SDK_ERROR_CODES.has(tagged.code)
      ? { code: tagged.code }
      : {};
    return {
      ...code,
      name: clip(String(err.name), 200),
      message: clip(String(err.message), SENT_ERROR_CHARS),
      stack: err.stack ? clip(String(err.stack), SENT_ERROR_CHARS) : null,
      step: tagged.tauStep === undefined ? null : clip(tagged.tauStep, SENT_STEP_NAME_CHARS),
      ...driverDetails(err),
    };
  }
  return {
    name: "NonError",
    message: clip(formatArgs([err]), SENT_ERROR_CHARS),
    stack: null,
    step: step === null ? null : clip(step, SENT_STEP_NAME_CHARS),
  };
}

/** `{ details }` when a driver said more than its message (see _error_details.ts), else `{}`. */
function driverDetails(err: Error): { details?: ErrorDetails } {
  try {
    const details = errorDetails(err);
    return details ? { details } : {};
  } catch {
    return {}; // an error whose fields throw when read keeps its message and stack
  }
}

function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value ?? {}));
  } catch {
    return { unserializable: formatArgs([value]) };
  }
}
