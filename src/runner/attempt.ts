/**
 * One attempt of a run: a `deno run` child with the generated permissions, its stdout parsed as
 * untrusted protocol, its status decided here (see verdict.ts) from the exit code, the limits
 * and the validated final events — never by the child alone.
 *
 * Nothing the child does may hurt the daemon: every line is bounded before it is touched, a
 * failure while handling one ends this run with kind `internal` (never an unhandled rejection),
 * and every string stored from it is redacted before it is cut to size.
 */
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TauPaths } from "../config/paths.ts";
import type { PipelineMetadata, RunDefaults } from "../metadata/schema.ts";
import type { ChildError } from "../protocol/events.ts";
import { LineParser, type ParsedLine } from "../protocol/line_parser.ts";
import { Channel, consumeLines, Counters } from "./run_channel.ts";
import { Steps } from "./steps.ts";
import { buildRunLaunch } from "../sandbox/permissions.ts";
import {
  copyCaches,
  linkModuleCache,
  versionTemplate,
  type ViewBoundary,
} from "../sandbox/deno_dir.ts";
import type { Json, RunError, RunStatus, Store } from "../store/mod.ts";
import { classifyChildError, systemErrors } from "./classify.ts";
import { storedDetails } from "./error_hints.ts";
import { LogWriter, MAX_STEP_NAME_CHARS, redactLines, storedText } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";
import type { InitMessage } from "../../sdk/_channel.ts";
import { stopReason } from "./options.ts";
import { REQUEST_OPS, type RequestHandler } from "../connections/run_requests.ts";
import { sandboxLockFile } from "../sandbox/npm_cache.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { layersReport, type OsBoundary } from "../sandbox/os_boundary.ts";
import { checkGrantedHosts, neverAllowed } from "../sandbox/network.ts";
import { type Usage, Watchdog } from "../sandbox/watchdog.ts";
import { diskUsage } from "../sandbox/disk_usage.ts";
import { type AccessRecord, readAuditLog, summarizeAudit } from "../sandbox/audit.ts";
import { type EndReason, verdict } from "./verdict.ts";
import { MAX_LINE_CHARS, STORED_ERROR_CHARS } from "../../sdk/_limits.ts";

export interface AttemptSpec {
  runId: string;
  attempt: number;
  pipeline: string;
  filename: string;
  entry: string;
  metadata: PipelineMetadata & RunDefaults;
  params: Record<string, Json>;
  lastSuccessfulRun: string | null;
  secretValues: Record<string, string>;
  redact: Redactor;
  firstLogSeq: number;
  daemonPort: number;
  daemonAddresses?: string[];
  limits: RunLimits;
  /** Layer 3 as detected at daemon start. */
  boundary: OsBoundary;
  signal: AbortSignal;
  onStart?: (pid: number) => void;
  /** Hosts of the declared connections. */
  connectionHosts: string[];
  /** The same hosts per connection name (for the access record). */
  connectionHostsByName?: Record<string, string[]>;
  /** Declared connections' connector options, sent in the init message only. */
  connections: Record<string, { type: string; options: Record<string, unknown> }>;
  /**
   * Serves the run's requests (trusted-side engines), given its scratch folder on the host and
   * the path the run itself knows it by.
   */
  requests?: (scratch: { scratchDir: string; scratchView: string }) => RequestHandler;
}

export interface AttemptOutcome {
  status: RunStatus;
  result: Json;
  error: RunError | null;
  nextLogSeq: number;
  /** The layers and limits the attempt ran with, and its peak usage. */
  sandbox: SandboxRecord;
  /** What it accessed per declared permission; null when it never started. */
  access: AccessRecord | null;
}

export type SandboxRecord = ReturnType<typeof layersReport> & {
  limits: RunLimits;
  /** Peak memory, threads, CPU and disk seen by the watchdog. */
  usage: Usage | null;
};

/** After stdout closes, how long a child may take to exit before it is killed. */
const EXIT_GRACE_MS = 2_000;
/**
 * How long a run told to stop (its `ctx.signal` aborted) has before it is killed: after a
 * cancel or drain, and before its timeout (at most a tenth of it, so the timeout stays exact).
 */
export const STOP_GRACE_MS = 1_000;
/** Longest stored part of a rejected protocol line. */
const MAX_REJECTED_CHARS = 200;
/** Longest stored audit target (a path or host the run asked for). */
const MAX_TARGET_CHARS = 512;

interface RunDirs {
  scratchDir: string;
  denoDir: string;
  auditFile: string;
  importMap: string;
  lockFile: string;
  /** Layer 3 and what it mounts; absent without it. */
  boundary: ViewBoundary;
}

export async function runAttempt(
  store: Store,
  paths: TauPaths,
  spec: AttemptSpec,
): Promise<AttemptOutcome> {
  const runDir = join(paths.runs, `${spec.runId}-${spec.attempt}`);
  const dirs: RunDirs = {
    scratchDir: join(runDir, "scratch"),
    denoDir: join(runDir, "deno"),
    auditFile: join(runDir, "audit", "permissions.jsonl"),
    importMap: paths.importMap,
    lockFile: sandboxLockFile(paths.denoDir),
    // What the run's imports resolve to, besides its own code: the SDK and approved drivers.
    boundary: spec.boundary.mechanism === null ? undefined : {
      os: spec.boundary,
      sdkDir: paths.sdkDir,
      npmDir: join(paths.denoDir, "npm"),
      viewImportMap: paths.viewImportMap,
    },
  };
  const logs = new LogWriter(store, spec.runId, spec.attempt, spec.firstLogSeq, {
    redact: spec.redact,
  });
  const engines: { requests?: RequestHandler } = {};
  let outcome: AttemptOutcome;
  try {
    await Deno.mkdir(dirs.scratchDir, { recursive: true, mode: 0o700 });
    await Deno.mkdir(join(runDir, "audit"), { mode: 0o700 });
    const template = await versionTemplate(
      join(spec.entry, ".."),
      spec.entry,
      paths.importMap,
      paths.denoDir,
      dirs.boundary,
    );
    if (template) await copyCaches(template, dirs.denoDir);
    await linkModuleCache(paths.denoDir, dirs.denoDir, { mountPoint: dirs.boundary !== undefined });
    outcome = await supervise(store, spec, logs, engines, dirs);
  } catch (err) {
    // Only Tau's own failures get here (the child's are verdicts): the run ends, truthfully.
    outcome = failedOutcome(spec, logs, systemErrors.internal(describe(err)));
  } finally {
    await engines.requests?.close().catch(() => {});
  }
  try {
    await logs.flush();
  } catch (err) {
    outcome = {
      ...outcome,
      status: "failed",
      error: spec.redact(systemErrors.internal(`storing its logs failed: ${describe(err)}`)),
    };
  }
  await Deno.remove(runDir, { recursive: true }).catch(() => {});
  return { ...outcome, nextLogSeq: logs.nextSeq };
}

function failedOutcome(spec: AttemptSpec, logs: LogWriter, error: RunError): AttemptOutcome {
  return {
    status: "failed",
    result: null,
    error: spec.redact(error),
    nextLogSeq: logs.nextSeq,
    sandbox: { ...layersReport(spec.boundary), limits: spec.limits, usage: null },
    access: null,
  };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function supervise(
  store: Store,
  spec: AttemptSpec,
  logs: LogWriter,
  engines: { requests?: RequestHandler },
  dirs: RunDirs,
): Promise<AttemptOutcome> {
  const { limits, redact } = spec;
  const launch = buildRunLaunch(
    {
      net: spec.metadata.net,
      secrets: spec.metadata.secrets,
      connectionHosts: spec.connectionHosts,
    },
    {
      ...dirs,
      entry: spec.entry,
      daemonPort: spec.daemonPort,
      daemonAddresses: spec.daemonAddresses,
      limits,
    },
    spec.secretValues,
  );
  const sandbox: SandboxRecord = { ...layersReport(spec.boundary), limits, usage: null };
  const codeUrl = pathToFileURL(join(dirname(launch.view.entry), "pipeline.ts")).href;
  const classify = (error: ChildError) => classifyError(spec, codeUrl, error);
  const daemon = { port: spec.daemonPort, addresses: spec.daemonAddresses };
  const refused = await checkGrantedHosts(launch.permissions.net, daemon);
  if (refused) return failedOutcome(spec, logs, systemErrors.forbiddenAddress(refused));
  const requests = engines.requests = spec.requests?.({
    scratchDir: dirs.scratchDir,
    scratchView: launch.view.scratch,
  });
  // The compiler caches the run starts with are Tau's doing, not the run's.
  const baseline = await diskUsage([dirs.denoDir], Infinity);

  const nonce = crypto.randomUUID();
  const child = new Deno.Command(launch.wrapper[0] ?? launch.view.deno, {
    args: launch.wrapper.length > 0
      ? [...launch.wrapper.slice(1), launch.view.deno, ...launch.args]
      : launch.args,
    env: launch.env,
    clearEnv: true,
    cwd: dirs.scratchDir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  spec.onStart?.(child.pid);

  const channel = new Channel(child.stdin.getWriter());
  const init: InitMessage = {
    nonce,
    run_id: spec.runId,
    pipeline: spec.pipeline,
    attempt: spec.attempt,
    params: spec.params,
    last_successful_run: spec.lastSuccessfulRun,
    secrets: spec.metadata.secrets,
    connections: spec.connections,
  };
  channel.send(init);

  let ended: { reason: EndReason; detail: string } | null = null;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const end = (reason: EndReason, detail = "") => {
    ended ??= { reason, detail };
    kill();
  };
  // Cancel, drain and the coming timeout first abort the run's ctx.signal (a stop line on its
  // stdin), then kill it: a grace period later, or at its timeout exactly. Limits kill at once.
  let stopped: "timeout" | null = null;
  let stopSent = false;
  const stop = (reason: "cancel" | "drain" | "timeout") => {
    if (stopSent) return;
    stopSent = true;
    channel.send({ type: "stop", reason });
  };
  const grace = Math.min(STOP_GRACE_MS, Math.floor(limits.timeout_ms / 10));
  const timers = [
    setTimeout(() => {
      stopped = "timeout";
      stop("timeout");
    }, limits.timeout_ms - grace),
    setTimeout(() => end("timeout"), limits.timeout_ms),
  ];
  const watchdog = new Watchdog({
    pid: child.pid,
    extraPids: () => requests?.enginePids() ?? [],
    limits,
    folders: [dirs.scratchDir, dirs.denoDir],
    baseline,
    auditFile: dirs.auditFile,
    onExceeded: (kind, detail) => end(kind, detail),
  });
  watchdog.start();
  // The run manager aborts with "cancel", "drain" or "lost" (another worker runs it now: no
  // grace for a run that is no longer this worker's).
  const onAbort = () => {
    if (stopReason(spec.signal) === "lost" || ended) return end("cancelled");
    ended = { reason: "cancelled", detail: "" };
    stop(stopReason(spec.signal) === "drain" ? "drain" : "cancel");
    timers.push(setTimeout(kill, STOP_GRACE_MS));
  };
  spec.signal.addEventListener("abort", onAbort, { once: true });
  if (spec.signal.aborted) onAbort();

  const counters = new Counters(limits, end);
  const requested = new Set<string>();
  const serve = (id: number, op: string, payload: Record<string, unknown>) => {
    if (typeof payload.connection === "string") requested.add(payload.connection);
    requests!.handle(op, payload).then(
      (value) => channel.sendRaw(`{"id":${id},"ok":true,"value":${value}}`),
      (err) => channel.send({ id, ok: false, error: { message: redact(describe(err)) } }),
    );
  };

  const steps = new Steps(store, spec);
  let result: { value: Json } | null = null;
  let childError: ChildError | null = null;
  let resultRefused: string | null = null;
  const stderrTail: string[] = [];

  const onStdout = async (line: ParsedLine) => {
    if (line.kind === "text") return logs.write("stdout", line.text);
    if (line.kind === "invalid") {
      if (line.eventType === "result") resultRefused ??= resultRefusal(line.reason);
      if (line.eventType === "step_end" && line.seq !== null) steps.refused(line.seq, line.reason);
      return logs.write("system", `${line.reason}: ${redact.clip(line.text, MAX_REJECTED_CHARS)}`);
    }
    const event = line.event;
    if (!counters.event()) return; // past the cap: the run is ending, nothing more is stored
    switch (event.type) {
      case "log":
        return logs.write(event.level, event.message, event.step);
      case "step_start":
        return await steps.start(event.seq, event.name);
      case "step_end":
        return await steps.end(event.seq, event.name, {
          status: event.status,
          rows_in: event.rows_in,
          rows_out: event.rows_out,
          metadata: redact(event.metadata as Record<string, Json>),
          error: event.error ? storedError(redact, classify(event.error)) : null,
        });
      case "result":
        if (result === null) result = { value: redact(event.value as Json) };
        else logs.write("system", "a second result was ignored");
        return;
      case "error":
        if (childError === null) childError = event.error;
        else logs.write("system", "a second error was ignored");
        return;
      case "request":
        // Only requests Tau serves are work rather than output; anything else is just bytes.
        if (!requests || !REQUEST_OPS.has(event.op)) {
          return channel.send({
            id: event.id,
            ok: false,
            error: { message: `Unknown request ${redact.clip(event.op, 100)}` },
          });
        }
        if (counters.request(line.size)) serve(event.id, event.op, event.payload);
        return;
      default:
        logs.write("system", `unexpected event ${event.type} ignored`);
    }
  };
  const onStderr = (line: ParsedLine) => {
    const text = line.kind === "event" ? "" : line.text;
    stderrTail.push(text);
    if (stderrTail.length > 40) stderrTail.shift();
    logs.write("stderr", text);
  };
  // A failure while handling a line is Tau's, not the run's: it ends the run, never the daemon.
  const guarded = (handle: (line: ParsedLine) => unknown) => async (line: ParsedLine) => {
    try {
      await handle(line);
    } catch (err) {
      end("internal", `handling the run's output failed: ${describe(err)}`);
    }
  };
  const readStdout = consumeLines(child.stdout, new LineParser(nonce), counters, guarded(onStdout))
    .catch((err) => end("internal", `reading the run's output failed: ${describe(err)}`));
  const readStderr = consumeLines(
    child.stderr,
    new LineParser(crypto.randomUUID()),
    counters,
    guarded(onStderr),
  ).catch((err) => end("internal", `reading the run's stderr failed: ${describe(err)}`));
  // A child whose stdout reached its end but keeps running can no longer be heard: it is
  // ended. (Under bubblewrap its helpers hold the pipe too, so only its exit or limits end it.)
  let exited = false;
  let exitedAt = 0;
  void readStdout.then(() => {
    if (!exited) setTimeout(() => !exited && end("channel_closed"), EXIT_GRACE_MS);
  });
  let status: Deno.CommandStatus;
  try {
    [status] = await Promise.all([
      child.status.finally(() => {
        exited = true;
        exitedAt = performance.now();
      }),
      readStdout,
      readStderr,
    ]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    spec.signal.removeEventListener("abort", onAbort);
    await watchdog.stop();
    await channel.close();
  }
  sandbox.usage = watchdog.peak;

  const decided = verdict({
    ended,
    stopped,
    exit: { code: status.code, signal: status.signal },
    result,
    error: childError,
    resultRefused,
    limits,
    usage: watchdog.peak,
    cpuCouldReach: (seconds) => watchdog.cpuCouldReach(seconds, exitedAt),
    stderr: redactLines(redact, stderrTail).join("\n"),
    classify,
  });
  // An error the child did not place (a timeout, a cancel, a limit) happened in the open step.
  const step = decided.error?.step ?? steps.lastOpen();
  const error = decided.error
    ? storedError(redact, step ? { ...decided.error, step } : decided.error)
    : null;
  await steps.closeOpen(decided.status, error);
  return {
    status: decided.status,
    result: decided.result,
    error,
    nextLogSeq: logs.nextSeq,
    sandbox,
    access: await accessRecord(spec, launch.permissions, dirs.auditFile, requested),
  };
}

function classifyError(spec: AttemptSpec, codeUrl: string, error: ChildError): RunError {
  return classifyChildError(error, {
    codeUrl,
    filename: spec.filename,
    neverAllowed: (target) =>
      neverAllowed(target, { port: spec.daemonPort, addresses: spec.daemonAddresses }),
  });
}

/** Why a result line was refused, as the run's error says it. */
function resultRefusal(reason: string): string {
  return /line longer than/.test(reason)
    ? `it is larger than the ${MAX_LINE_CHARS / 1024 / 1024} MiB a result may be`
    : reason.replace(/^protocol event rejected: /, "");
}

/** Every string field redacted, then cut to a size fit for storing. */
function storedError(redact: Redactor, error: RunError): RunError {
  const text = (value: string | null | undefined, max: number) =>
    typeof value === "string" ? storedText(redact, value, max) : value;
  return redact({
    ...error,
    message: text(error.message, STORED_ERROR_CHARS)!,
    step: text(error.step, MAX_STEP_NAME_CHARS),
    stack: text(error.stack, STORED_ERROR_CHARS),
    hint: text(error.hint, 4096),
    target: text(error.target, MAX_TARGET_CHARS),
    ...(error.details ? { details: storedDetails(error.details, (v, max) => text(v, max)!) } : {}),
  });
}

async function accessRecord(
  spec: AttemptSpec,
  permissions: ReturnType<typeof buildRunLaunch>["permissions"],
  auditFile: string,
  requested: ReadonlySet<string>,
): Promise<AccessRecord> {
  const [auditText, auditTruncated] = await readAuditLog(auditFile);
  return summarizeAudit(
    auditText,
    permissions,
    new Map(
      spec.metadata.connections.map((name) => [name, spec.connectionHostsByName?.[name] ?? []]),
    ),
    requested,
    {
      truncated: auditTruncated,
      target: (value) => storedText(spec.redact, value, MAX_TARGET_CHARS),
    },
  );
}
