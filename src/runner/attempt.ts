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
import { errorText } from "../core/errors.ts";
import type { PipelineMetadata, RunDefaults } from "../metadata/schema.ts";
import type { ChildError } from "../protocol/events.ts";
import type { Json, RunError, RunStatus, Store } from "../store/mod.ts";
import type { RequestHandler } from "../connections/run_requests.ts";
import {
  type AccessRecord,
  checkGrantedHosts,
  type ChildExit,
  diskUsage,
  layersReport,
  neverAllowed,
  type PermissionSet,
  readAuditLog,
  type RunLimits,
  summarizeAudit,
  type Usage,
} from "../sandbox/mod.ts";
import type { InitMessage } from "../../sdk/_channel.ts";
import { STORED_ERROR_CHARS } from "../../sdk/_limits.ts";
import { Channel, Counters } from "./run_channel.ts";
import { ChildOutput } from "./child_output.ts";
import { Steps } from "./steps.ts";
import { classifyChildError, systemErrors } from "./classify.ts";
import { storedDetails } from "./error_hints.ts";
import { LogWriter, MAX_STEP_NAME_CHARS, redactLines, storedText } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";
import { stopReason } from "./options.ts";
import { verdict } from "./verdict.ts";
import { type ChildSpec, type RunChild, startRunChild } from "./run_child.ts";
import type { WarmPool } from "./warm_pool.ts";
import { LineageRecorder } from "../lineage/recorder.ts";
import { saveRunLineage } from "../lineage/save.ts";

export interface AttemptSpec extends ChildSpec {
  runId: string;
  attempt: number;
  pipeline: string;
  version: number;
  filename: string;
  metadata: PipelineMetadata & RunDefaults;
  params: Record<string, Json>;
  lastSuccessfulRun: string | null;
  /** The schedule instant the run is for (`ctx.scheduledAt`), if any. */
  scheduledAt?: string | null;
  /** Its scheduled instant, else when the run was created (`ctx.logicalDate`). */
  logicalDate?: string;
  redact: Redactor;
  firstLogSeq: number;
  signal: AbortSignal;
  onStart?: (pid: number) => void;
  /** Children started ahead of their runs; without it every attempt starts cold. */
  pool?: WarmPool | null;
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
  /** The child was started ahead of the run by the warm pool (null: no child started). */
  warm: boolean | null;
  /** Peak memory, threads, CPU and disk seen by the watchdog. */
  usage: Usage | null;
};

/** Longest stored audit target (a path or host the run asked for). */
const MAX_TARGET_CHARS = 512;

export async function runAttempt(
  store: Store,
  paths: TauPaths,
  spec: AttemptSpec,
): Promise<AttemptOutcome> {
  const logs = new LogWriter(store, spec.runId, spec.attempt, spec.firstLogSeq, {
    redact: spec.redact,
  });
  const engines: { requests?: RequestHandler } = {};
  const version = { pipeline: spec.pipeline, version: spec.version };
  let child: RunChild | null = null;
  let outcome: AttemptOutcome;
  try {
    child = (await spec.pool?.take(version, spec)) ?? await startRunChild(paths, spec);
    outcome = await supervise(store, spec, logs, engines, child);
  } catch (err) {
    // Only Tau's own failures get here (the child's are verdicts): the run ends, truthfully.
    outcome = failedOutcome(spec, logs, systemErrors.internal(errorText(err)));
    await child?.child.discard();
  } finally {
    await engines.requests?.close().catch(() => {});
  }
  try {
    await logs.flush();
  } catch (err) {
    outcome = {
      ...outcome,
      status: "failed",
      error: spec.redact(systemErrors.internal(`storing its logs failed: ${errorText(err)}`)),
    };
  }
  if (child) await Deno.remove(child.dir, { recursive: true }).catch(() => {});
  // A version that runs often finds its next child waiting (see warm_pool.ts).
  spec.pool?.keep(version, spec);
  return { ...outcome, nextLogSeq: logs.nextSeq };
}

function failedOutcome(spec: AttemptSpec, logs: LogWriter, error: RunError): AttemptOutcome {
  return {
    status: "failed",
    result: null,
    error: spec.redact(error),
    nextLogSeq: logs.nextSeq,
    sandbox: { ...layersReport(spec.boundary), limits: spec.limits, warm: null, usage: null },
    access: null,
  };
}

async function supervise(
  store: Store,
  spec: AttemptSpec,
  logs: LogWriter,
  engines: { requests?: RequestHandler },
  run: RunChild,
): Promise<AttemptOutcome> {
  const { limits, redact } = spec;
  const { launch, dirs, child } = run;
  const sandbox: SandboxRecord = {
    ...layersReport(spec.boundary),
    limits,
    warm: run.warm,
    usage: null,
  };
  const codeUrl = pathToFileURL(join(dirname(launch.view.entry), "pipeline.ts")).href;
  const classify = (error: ChildError) => classifyError(spec, codeUrl, error);
  const daemon = { ports: spec.daemonPorts, addresses: spec.daemonAddresses };
  const refused = await checkGrantedHosts(launch.permissions.net, daemon);
  if (refused) {
    await child.discard();
    return failedOutcome(spec, logs, systemErrors.forbiddenAddress(refused));
  }
  const requests = engines.requests = spec.requests?.({
    scratchDir: dirs.scratchDir,
    scratchView: launch.view.scratch,
  });
  // The compiler caches the run starts with are Tau's doing, not the run's.
  const baseline = await diskUsage([dirs.denoDir], Infinity);
  spec.onStart?.(child.pid);
  const nonce = crypto.randomUUID();
  const channel = new Channel(child.stdin.getWriter());
  channel.send(initMessage(spec, nonce));
  child.watch((reason) => channel.send({ type: "stop", reason }), {
    extraPids: () => requests?.enginePids() ?? [],
    folders: [dirs.scratchDir, dirs.denoDir],
    baseline,
    auditFile: dirs.auditFile,
  });
  // The run manager aborts with "cancel", "drain" or "lost" (another worker runs it now).
  const onAbort = () => {
    const reason = stopReason(spec.signal);
    child.stop(reason === "lost" || reason === "drain" ? reason : "cancel");
  };
  spec.signal.addEventListener("abort", onAbort, { once: true });
  if (spec.signal.aborted) onAbort();

  const counters = new Counters(limits, (reason, detail) => child.end(reason, detail));
  const steps = new Steps(store, spec);
  const lineage = new LineageRecorder();
  const output = new ChildOutput({
    logs,
    steps,
    channel,
    counters,
    redact,
    storedError: (error) => storedError(redact, classify(error)),
    requests,
    lineage,
  });
  const [readStdout, readStderr] = output.read(
    child,
    nonce,
    (detail) => child.end("internal", detail),
  );
  void readStdout.then(() => child.outputClosed());
  let exit: ChildExit;
  try {
    exit = await child.exit([readStdout, readStderr]);
  } finally {
    spec.signal.removeEventListener("abort", onAbort);
    await channel.close();
  }
  sandbox.usage = exit.usage;

  const decided = verdict({
    ended: exit.ended,
    stopped: exit.stopped,
    exit: { code: exit.status.code, signal: exit.status.signal },
    result: output.result,
    error: output.error,
    resultRefused: output.resultRefused,
    limits,
    usage: exit.usage,
    cpuCouldReach: exit.cpuCouldReach,
    stderr: redactLines(redact, output.stderrTail).join("\n"),
    classify,
  });
  // An error the child did not place (a timeout, a cancel, a limit) happened in the open step.
  const step = decided.error?.step ?? steps.lastOpen();
  const error = decided.error
    ? storedError(redact, step ? { ...decided.error, step } : decided.error)
    : null;
  await steps.closeOpen(decided.status, error);
  await saveRunLineage(store, spec, lineage, (message) => logs.write("system", message));
  return {
    status: decided.status,
    result: decided.result,
    error,
    nextLogSeq: logs.nextSeq,
    sandbox,
    access: await accessRecord(spec, launch.permissions, dirs.auditFile, output.requested),
  };
}

/** The first line the run reads: who it is, its params, and its declared connections. */
function initMessage(spec: AttemptSpec, nonce: string): InitMessage {
  return {
    nonce,
    run_id: spec.runId,
    pipeline: spec.pipeline,
    attempt: spec.attempt,
    params: spec.params,
    last_successful_run: spec.lastSuccessfulRun,
    scheduled_at: spec.scheduledAt ?? null,
    ...(spec.logicalDate ? { logical_date: spec.logicalDate } : {}),
    secrets: spec.metadata.secrets,
    connections: spec.connections,
  };
}

function classifyError(spec: AttemptSpec, codeUrl: string, error: ChildError): RunError {
  return classifyChildError(error, {
    codeUrl,
    filename: spec.filename,
    neverAllowed: (target) =>
      neverAllowed(target, { ports: spec.daemonPorts, addresses: spec.daemonAddresses }),
  });
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
  permissions: PermissionSet,
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
