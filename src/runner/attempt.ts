/**
 * One attempt of a run: a `deno run` child with the generated permissions, its stdout parsed as
 * untrusted protocol, its status decided here from the exit code, the timeout, the output cap
 * and the validated final event — never by the child alone.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { TauPaths } from "../config/paths.ts";
import type { PipelineMetadata, RunDefaults } from "../metadata/schema.ts";
import type { ChildError } from "../protocol/events.ts";
import { LineParser } from "../protocol/line_parser.ts";
import { buildRunLaunch } from "../sandbox/permissions.ts";
import { copyCaches, linkModuleCache, versionTemplate } from "../sandbox/deno_dir.ts";
import type { Json, RunError, RunStatus, StepRecord, Store } from "../store/mod.ts";
import { classifyChildError, systemErrors } from "./classify.ts";
import { LogWriter, redactLines } from "./log_writer.ts";
import type { Redactor } from "./redact.ts";
import type { RequestHandler } from "../connections/run_requests.ts";
import { sandboxLockFile } from "../sandbox/npm_cache.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import { layersReport, type OsBoundary } from "../sandbox/os_boundary.ts";
import { checkGrantedHosts } from "../sandbox/network.ts";
import { type LimitKind, type Usage, Watchdog } from "../sandbox/watchdog.ts";
import { type AccessRecord, MAX_AUDIT_BYTES, summarizeAudit } from "../sandbox/audit.ts";
import { readCapped } from "../sandbox/deno_process.ts";

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
  /** Serves the run's requests (trusted-side engines), given its scratch folder. */
  requests?: (scratchDir: string) => RequestHandler;
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

export async function runAttempt(
  store: Store,
  paths: TauPaths,
  spec: AttemptSpec,
): Promise<AttemptOutcome> {
  const runDir = join(paths.runs, `${spec.runId}-${spec.attempt}`);
  const scratchDir = join(runDir, "scratch");
  const denoDir = join(runDir, "deno");
  const auditDir = join(runDir, "audit");
  await Deno.mkdir(scratchDir, { recursive: true, mode: 0o700 });
  await Deno.mkdir(auditDir, { mode: 0o700 });
  const template = await versionTemplate(
    join(spec.entry, ".."),
    spec.entry,
    paths.importMap,
    paths.denoDir,
  );
  if (template) await copyCaches(template, denoDir);
  await linkModuleCache(paths.denoDir, denoDir);
  const logs = new LogWriter(store, spec.runId, spec.attempt, spec.firstLogSeq, {
    redact: spec.redact,
  });
  const requests = spec.requests?.(scratchDir);
  try {
    return await supervise(store, spec, logs, requests, {
      scratchDir,
      denoDir,
      auditFile: join(auditDir, "permissions.jsonl"),
      importMap: paths.importMap,
      lockFile: sandboxLockFile(paths.denoDir),
      // What the run's imports resolve to, besides its own code: the SDK and approved drivers.
      readOnly: [paths.sdkDir, join(paths.denoDir, "npm")],
    });
  } finally {
    requests?.close();
    await logs.flush();
    await Deno.remove(runDir, { recursive: true }).catch(() => {});
  }
}

async function supervise(
  store: Store,
  spec: AttemptSpec,
  logs: LogWriter,
  requests: RequestHandler | undefined,
  dirs: {
    scratchDir: string;
    denoDir: string;
    auditFile: string;
    importMap: string;
    lockFile: string;
    readOnly: string[];
  },
): Promise<AttemptOutcome> {
  const { limits, boundary } = spec;
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
      boundary: { os: boundary, readOnly: dirs.readOnly },
    },
    spec.secretValues,
  );
  const sandbox: SandboxRecord = { ...layersReport(boundary), limits, usage: null };
  const redact = spec.redact;
  const refused = await checkGrantedHosts(launch.permissions.net, {
    port: spec.daemonPort,
    addresses: spec.daemonAddresses,
  });
  if (refused) {
    return {
      status: "failed",
      result: null,
      error: redact(systemErrors.forbiddenAddress(refused)),
      nextLogSeq: logs.nextSeq,
      sandbox,
      access: null,
    };
  }
  const nonce = crypto.randomUUID();
  const deno = Deno.execPath();
  const child = new Deno.Command(launch.wrapper[0] ?? deno, {
    args: launch.wrapper.length > 0
      ? [...launch.wrapper.slice(1), deno, ...launch.args]
      : launch.args,
    env: launch.env,
    clearEnv: true,
    cwd: dirs.scratchDir,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  spec.onStart?.(child.pid);

  let ended: EndReason | null = null;
  let limitDetail = "";
  const kill = (reason: EndReason, detail = "") => {
    if (ended === null) {
      ended = reason;
      limitDetail = detail;
    }
    try {
      child.kill("SIGKILL");
    } catch { /* already exited */ }
  };
  const timer = setTimeout(() => kill("timeout"), limits.timeout_ms);
  const watchdog = new Watchdog(
    child.pid,
    limits,
    [dirs.scratchDir, dirs.auditFile],
    (kind, detail) => kill(kind, detail),
  );
  watchdog.start();
  let events = 0;
  const countEvent = () => {
    if (++events > limits.events) kill("event_limit", `more than ${limits.events} events`);
  };
  const requested = new Set<string>();
  const onAbort = () => kill("cancelled");
  spec.signal.addEventListener("abort", onAbort, { once: true });
  if (spec.signal.aborted) onAbort();

  const writer = child.stdin.getWriter();
  const init = {
    nonce,
    run_id: spec.runId,
    pipeline: spec.pipeline,
    attempt: spec.attempt,
    params: spec.params,
    last_successful_run: spec.lastSuccessfulRun,
    secrets: spec.metadata.secrets,
    connections: spec.connections,
  };
  // stdin stays open: replies to the run's requests travel on it, one JSON line each.
  const encoder = new TextEncoder();
  let replies = writer.write(encoder.encode(JSON.stringify(init) + "\n")).catch(() => {});
  const reply = (message: unknown) => {
    replies = replies.then(() => writer.write(encoder.encode(JSON.stringify(message) + "\n")))
      .catch(() => {});
  };
  const serve = (id: number, op: string, payload: Record<string, unknown>) => {
    if (typeof payload.connection === "string") requested.add(payload.connection);
    if (!requests) return reply({ id, ok: false, error: { message: `Unknown request ${op}` } });
    requests.handle(op, payload).then(
      (value) => reply({ id, ok: true, value }),
      (err) =>
        reply({
          id,
          ok: false,
          error: { message: redact(err instanceof Error ? err.message : String(err)) },
        }),
    );
  };

  // What the run prints counts against its output cap; requests to the trusted side (rows on
  // their way into DuckDB, say) are work, not output, and are refunded once parsed as such.
  let outputBytes = 0;
  const output = {
    add: (bytes: number) => outputBytes += bytes,
    refund: (bytes: number) => outputBytes -= bytes,
    /** False once the cap is passed: the rest is drained but not stored. */
    ok: () => {
      if (outputBytes <= limits.output_bytes) return true;
      kill("output_limit");
      return false;
    },
  };
  const stepStarts = new Map<number, string>();
  const saveStep = (
    seq: number,
    name: string,
    fields: Partial<StepRecord> & { started_at: string },
  ) =>
    store.saveStep({
      run_id: spec.runId,
      attempt: spec.attempt,
      seq,
      name: redact(name),
      status: "running",
      finished_at: null,
      duration_ms: null,
      rows_in: null,
      rows_out: null,
      metadata: {},
      error: null,
      ...fields,
    });
  let result: { value: Json } | null = null;
  let childError: ChildError | null = null;
  const stderrTail: string[] = [];

  const readStdout = consumeLines(
    child.stdout,
    new LineParser(nonce),
    output,
    async (line) => {
      if (line.kind === "text") return logs.write("stdout", line.text);
      if (line.kind === "invalid") {
        return logs.write("system", `${line.reason}: ${line.text}`);
      }
      const event = line.event;
      countEvent();
      switch (event.type) {
        case "log":
          return logs.write(event.level, event.message, event.step, event.ts);
        case "step_start":
          stepStarts.set(event.seq, event.ts);
          return await saveStep(event.seq, event.name, { started_at: event.ts });
        case "step_end":
          return await saveStep(event.seq, event.name, {
            status: event.status,
            started_at: stepStarts.get(event.seq) ?? event.ts,
            finished_at: event.ts,
            duration_ms: Math.round(event.duration_ms),
            rows_in: event.rows_in,
            rows_out: event.rows_out,
            metadata: redact(event.metadata as Record<string, Json>),
            error: event.error
              ? redact(classifyChildError(event.error, classifyContext(spec)))
              : null,
          });
        case "result":
          if (result === null && childError === null) {
            result = {
              value: redact(event.value as Json),
            };
          } else logs.write("system", "a second final event was ignored");
          return;
        case "error":
          if (result === null && childError === null) childError = event.error;
          return;
        case "request":
          output.refund(line.size);
          return serve(event.id, event.op, event.payload);
        default:
          logs.write("system", `unexpected event ${event.type} ignored`);
      }
    },
  );
  const readStderr = consumeLines(
    child.stderr,
    new LineParser(crypto.randomUUID()),
    output,
    (line) => {
      const text = line.kind === "text" ? line.text : line.kind === "invalid" ? line.text : "";
      stderrTail.push(text);
      if (stderrTail.length > 40) stderrTail.shift();
      logs.write("stderr", text);
    },
  );
  // A child whose stdout reached its end but keeps running can no longer be heard: it is
  // ended. (Under bubblewrap its helpers hold the pipe too, so only its exit or limits end it.)
  let exited = false;
  readStdout.then(() => {
    if (!exited) setTimeout(() => !exited && kill("channel_closed"), EXIT_GRACE_MS);
  });
  const [status] = await Promise.all([
    child.status.finally(() => exited = true),
    readStdout,
    readStderr,
  ]);
  await replies;
  await writer.close().catch(() => {});
  clearTimeout(timer);
  spec.signal.removeEventListener("abort", onAbort);
  await watchdog.stop();
  sandbox.usage = watchdog.peak;
  const [auditText, auditTruncated] = await readAudit(dirs.auditFile);
  const access = summarizeAudit(
    auditText,
    {
      net: launch.permissions.net,
      env: launch.permissions.env,
      read: launch.permissions.read,
      write: launch.permissions.write,
    },
    new Map(
      spec.metadata.connections.map((name) => [name, spec.connectionHostsByName?.[name] ?? []]),
    ),
    requested,
    auditTruncated,
  );

  const outcome = (
    status: RunStatus,
    error: RunError | null,
    value: Json = null,
  ): AttemptOutcome => ({
    status,
    result: value,
    error: error ? redact(error) : null,
    nextLogSeq: logs.nextSeq,
    sandbox,
    access: redact(access),
  });
  const reason = ended as EndReason | null;
  if (reason === "cancelled") return outcome("cancelled", systemErrors.cancelled());
  if (reason === "timeout") return outcome("timed_out", systemErrors.timeout(limits.timeout_ms));
  if (reason === "output_limit") {
    return outcome("failed", systemErrors.outputLimit(limits.output_bytes));
  }
  if (reason) return outcome("failed", systemErrors.limit(reason, limitDetail));
  const signalled = limitSignal(status);
  if (signalled) return outcome("failed", systemErrors.limit(signalled, ""));
  const finalResult = result as { value: Json } | null;
  const finalError = childError as ChildError | null;
  if (status.code === 0 && finalResult && !finalError) {
    return outcome("success", null, finalResult.value);
  }
  if (finalError) return outcome("failed", classifyChildError(finalError, classifyContext(spec)));
  if (status.code === 0) return outcome("failed", systemErrors.noResult(status.code));
  return outcome(
    "failed",
    systemErrors.crashed(status.code, status.signal, redactLines(redact, stderrTail).join("\n")),
  );
}

function classifyContext(spec: AttemptSpec) {
  return {
    codeUrl: pathToFileURL(join(spec.entry, "..", "pipeline.ts")).href,
    filename: spec.filename,
  };
}

type ParsedLine = ReturnType<LineParser["push"]>[number];

async function consumeLines(
  stream: ReadableStream<Uint8Array>,
  parser: LineParser,
  output: { add(bytes: number): void; ok(): boolean },
  onLine: (line: ParsedLine) => void | Promise<void>,
): Promise<void> {
  const decoder = new TextDecoder();
  let open = true;
  for await (const chunk of stream) {
    if (!open) continue;
    output.add(chunk.length);
    for (const line of parser.push(decoder.decode(chunk, { stream: true }))) await onLine(line);
    open = output.ok();
  }
  if (open) { for (const line of parser.end()) await onLine(line); }
}

type EndReason =
  | "timeout"
  | "cancelled"
  | "output_limit"
  | "event_limit"
  | "channel_closed"
  | LimitKind;

/** rlimits end a process with a signal; through bubblewrap it becomes exit code 128 + signal. */
function limitSignal(status: Deno.CommandStatus): LimitKind | null {
  if (status.signal === "SIGXCPU" || status.code === 128 + 24) return "cpu_limit";
  if (status.signal === "SIGXFSZ" || status.code === 128 + 25) return "disk_limit";
  return null;
}

/** The audit log, capped: it is written by the child's runtime, so its size is the child's. */
async function readAudit(path: string): Promise<[string | null, boolean]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return [null, false];
  }
  try {
    const text = await readCapped(file.readable, MAX_AUDIT_BYTES + 1);
    return [text.slice(0, MAX_AUDIT_BYTES), text.length > MAX_AUDIT_BYTES];
  } catch {
    return [null, false];
  }
}
