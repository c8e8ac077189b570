/**
 * The code that runs a pipeline inside the sandbox. The trusted side generates a tiny entry
 * file per deployed version (not run as a doc test: `start()` waits for the init message the
 * trusted side writes to the run's stdin):
 *
 * ```ts ignore
 * import { start, run } from "tau/_harness.ts";
 * const init = await start();
 * await run(await import("./pipeline.ts"), init);
 * ```
 *
 * so the init message (with the protocol nonce) is read before any pipeline code runs.
 */
import { emit, type InitMessage, readInit, stopSignal } from "./_channel.ts";
import { createContext, currentStep, describeError, formatArgs, logEvent } from "./context.ts";
import { jsonDepthViolation, MAX_LINE_CHARS } from "./_limits.ts";
import { isPipeline } from "./pipeline.ts";
import type { SentLevel } from "./_events.ts";

const exit = Deno.exit;

/** Reads the init message and routes `console` and uncaught errors into the protocol. */
export async function start(): Promise<InitMessage> {
  const init = await readInit();
  routeConsole();
  const fail = (err: unknown) => {
    emit({ type: "error", error: describeError(err, currentStep()) });
    exit(1);
  };
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    fail(e.reason);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    fail(e.error);
  });
  return init;
}

/** Runs the default export of the pipeline module and reports its result. Never returns. */
export async function run(
  mod: { default?: unknown },
  init: InitMessage,
  loadConnectors?: () => Promise<typeof import("./connectors/_named.ts")>,
): Promise<never> {
  if (init.mode === "warm") return exit(0);
  const definition = mod.default;
  if (!isPipeline(definition)) {
    emit({ type: "error", error: notAPipeline() });
    return exit(1);
  }
  const ctx = createContext({
    runId: init.run_id,
    pipelineName: init.pipeline,
    attempt: init.attempt,
    params: init.params,
    lastSuccessfulRun: init.last_successful_run,
    scheduledAt: init.scheduled_at ?? null,
    ...(init.logical_date ? { logicalDate: init.logical_date } : {}),
    secrets: init.secrets,
    signal: stopSignal,
    ...(init.connections ? { connections: init.connections } : {}),
    ...(loadConnectors
      ? { connect: async (name, spec) => (await loadConnectors()).connectNamed(name, spec) }
      : {}),
  });
  let value: unknown;
  try {
    value = await definition.fn(ctx);
  } catch (err) {
    emit({ type: "error", error: describeError(err, currentStep()) });
    return exit(1);
  }
  const result = value === undefined ? null : value;
  const refused = resultProblem(result);
  if (refused) {
    const message = `The pipeline's return value ${refused}`;
    emit({
      type: "error",
      error: { code: "invalid_output", name: "InvalidResult", message, stack: null, step: null },
    });
    return exit(1);
  }
  emit({ type: "result", value: result });
  return exit(0);
}

/** What keeps a value from being a run's result (the channel's bounds), or null. */
function resultProblem(value: unknown): string | null {
  const tooDeep = jsonDepthViolation(value);
  if (tooDeep) return `is ${tooDeep}`;
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (err) {
    return `is not JSON-serializable: ${formatArgs([err])}`;
  }
  const max = MAX_LINE_CHARS - 100;
  if (json.length <= max) return null;
  const mib = (json.length / 1024 / 1024).toFixed(1);
  return `is ${mib} MiB as JSON; a result may be at most ${Math.floor(max / 1024)} KiB`;
}

/** Deploy-time mode: prints the pipeline's declared config; runs nothing else. */
export async function describe(load: () => Promise<{ default?: unknown }>): Promise<never> {
  await readInit();
  routeConsole();
  try {
    const definition = (await load()).default;
    if (!isPipeline(definition)) {
      emit({ type: "error", error: notAPipeline() });
      return exit(1);
    }
    emit({ type: "describe", config: definition.config });
    return exit(0);
  } catch (err) {
    emit({ type: "error", error: describeError(err, null) });
    return exit(1);
  }
}

function notAPipeline() {
  return {
    code: "invalid_pipeline",
    name: "NotAPipeline",
    message: "The file's default export is not a pipeline",
    stack: null,
    step: null,
  };
}

function routeConsole(): void {
  const levels: Record<string, SentLevel> = {
    log: "info",
    info: "info",
    debug: "debug",
    warn: "warn",
    error: "error",
  };
  for (const [method, level] of Object.entries(levels)) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) =>
      logEvent(level, formatArgs(args));
  }
}
