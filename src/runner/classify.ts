/**
 * Turns what a child reported (untrusted, already schema-checked) into the structured error an
 * agent reads: a `kind`, the failing step, the line and column in the pipeline file, and a hint.
 */
import type { RunErrorKind } from "../core/run_error_kinds.ts";
import type { ChildError } from "../protocol/events.ts";
import type { RunError } from "../store/mod.ts";
import { detailsHint } from "./error_hints.ts";

export interface ClassifyContext {
  /** file:// URL of the deployed pipeline.ts the child imported. */
  codeUrl: string;
  /** The name the author knows the file by (e.g. `hello_pipeline.ts`). */
  filename: string;
  /**
   * Why a net target is never reachable from a run whatever it declares (the daemon's port,
   * the cloud metadata service), or null: such a target gets no hint to declare it.
   */
  neverAllowed?: (target: string) => string | null;
}

// `Requires net access to "host:443"`, `Requires env access` (enumeration), or
// `Deno.symlink() requires unscoped --allow-read`.
const DENIED =
  /Requires (net|env|read|write|run|ffi|sys|import) access(?: to "([^"]*)")?|requires unscoped --allow-(read|write)/;
// node:dns lookups the sandbox refuses: Deno reports them as an EPERM from getaddrinfo.
const DNS_DENIED = /^getaddrinfo EPERM (\S+)$/;
// A bare command name (`new Deno.Command("id")`) is looked up on PATH, which a run does not
// have, before its permission is checked: Deno then reports NotFound, not a denial.
const SPAWN_NOT_FOUND = /^Failed to spawn '([^']*)'/;
// Frames of the code that starts processes: Deno.Command and node:child_process (which fails
// first on the environment it copies for the child).
const SPAWN_FRAME = /ext:deno_process\/|ext:deno_node\/(?:internal\/)?child_process\.ts/;

const PERMISSION_HINTS: Record<string, (target: string) => string> = {
  net: (t) =>
    `declare the host in the pipeline config: net: [${
      JSON.stringify(t)
    }], or declare the connection that owns it in connections`,
  env: (t) =>
    !t
      ? "a run can read only its declared secrets, one by one, never the whole environment"
      : t.startsWith("NODE_")
      ? "pipelines can never start subprocesses (node:child_process reads NODE_* variables first)"
      : `declare it: secrets: [${JSON.stringify(t)}], and read it with ctx.secret()`,
  read: (t) =>
    !t
      ? "links and whole-filesystem operations need unscoped read access, which no run gets"
      : "a run may only read and write its scratch folder (the working directory, Deno.cwd()); load data through a connection instead",
  write: () => "a run may only write inside its scratch folder (the working directory, Deno.cwd())",
  run: () =>
    "pipelines can never start or signal processes (Deno.Command, node:child_process, Deno.kill): do the work in TypeScript, or through a declared connection",
  ffi: () => "pipelines can never load native libraries",
  sys: () => "pipelines can never read system information",
  import: () => "pipelines can never import remote modules at run time",
};

export function classifyChildError(error: ChildError, context: ClassifyContext): RunError {
  const message = rewritePaths(error.message, context);
  const stack = error.stack ? rewritePaths(error.stack, context) : null;
  const base = {
    message,
    step: error.step,
    stack,
    location: locate(error.stack, context),
    ...(error.details ? { details: error.details } : {}),
  };
  const dns = DNS_DENIED.exec(error.message);
  if (dns) {
    return {
      kind: "permission_denied",
      ...base,
      permission: "net",
      target: dns[1]!,
      hint: `node:dns lookups are not allowed: grants are host:port pairs, so connect to ${
        dns[1]
      } by name (fetch, a driver) and the connection resolves it; declare it in net as "${
        dns[1]
      }:PORT"`,
    };
  }
  const denied = DENIED.exec(error.message);
  const spawn = subprocessAttempt(error, denied);
  if (spawn) {
    return {
      kind: "permission_denied",
      ...base,
      message: spawn.message ?? message,
      permission: "run",
      target: spawn.target,
      hint: PERMISSION_HINTS.run!(""),
    };
  }
  if (denied || error.name === "NotCapable" || error.name === "PermissionDenied") {
    const permission = denied?.[1] ?? denied?.[3] ?? null;
    const target = denied?.[2] ?? null;
    const never = permission === "net" && target ? context.neverAllowed?.(target) : null;
    return {
      kind: "permission_denied",
      ...base,
      permission,
      target,
      hint: never
        ? `${target} is ${never}, which no run may reach whatever it declares; declaring it does not help`
        : permission && PERMISSION_HINTS[permission]
        ? PERMISSION_HINTS[permission](target ?? "")
        : "declare what the pipeline needs in its config",
    };
  }
  // Tau's own errors say which kind they are by their stable code, not their class name.
  switch (error.code) {
    case "undeclared_secret":
      return {
        kind: "undeclared_secret",
        ...base,
        hint: "add the name to secrets: [...] in the pipeline config",
      };
    case "undeclared_connection":
      return {
        kind: "undeclared_connection",
        ...base,
        hint: "add the name to connections: [...] in the pipeline config",
      };
    case "secret_not_set":
      return {
        kind: "secret_not_set",
        ...base,
        hint: "export the variable in the environment that starts taud, then restart it",
      };
    case "invalid_output":
      return {
        kind: "invalid_output",
        ...base,
        hint:
          "results and step metadata must be plain JSON (objects, arrays, strings, numbers, booleans, null), at most 64 levels deep and under 1 MiB: return a summary and write the data itself to a connection",
      };
    case "invalid_pipeline":
      return { kind: "invalid_pipeline", ...base, hint: "export default pipeline({...}, fn)" };
    case "schema_change": // the message names the table, the columns and the option
      return {
        kind: "schema_change",
        ...base,
        hint:
          'set onSchemaChange in the load options: "append_new_columns" (the default) adds new columns, "sync_all_columns" also widens changed types and drops missing columns, "ignore" writes only the table\'s columns; or make the rows match the table',
      };
  }
  if (error.name === "RangeError" && /Array buffer allocation failed/.test(error.message)) {
    return {
      kind: "memory_limit",
      ...base,
      hint: "process data in batches, or raise limits.memoryMb in the pipeline config",
    };
  }
  return { kind: "exception", ...base, hint: hintForException(error, base.location) };
}

/**
 * Any attempt to start a process, however Deno reported it: a bare name not found on PATH, a
 * run denial, or node:child_process refused the environment it copies. Null for other errors.
 */
function subprocessAttempt(
  error: ChildError,
  denied: RegExpExecArray | null,
): { target: string | null; message?: string } | null {
  const notFound = SPAWN_NOT_FOUND.exec(error.message);
  if (notFound) {
    return {
      target: notFound[1]!,
      message: `Cannot start the subprocess ${
        JSON.stringify(notFound[1])
      }: a run may not start subprocesses (Deno reported: ${error.message})`,
    };
  }
  if (denied?.[1] === "run") return { target: denied[2] ?? null };
  const refused = denied || error.name === "NotCapable" || error.name === "PermissionDenied";
  return refused && SPAWN_FRAME.test(error.stack ?? "") ? { target: null } : null;
}

/** A hint names a place only when the stack has one in the pipeline file. */
function hintForException(error: ChildError, location: RunError["location"]): string {
  if (error.details) return detailsHint(error.details);
  const where = location ? `${location.file}:${location.line}:${location.column}` : null;
  if (error.name === "TypeError" && /is not a function|undefined/.test(error.message)) {
    return where
      ? `check the value named in the message, used at ${where}`
      : "check the value named in the message; no frame of the stack is in the pipeline file";
  }
  return where
    ? `read the message and stack; the failing call in the pipeline file is at ${where}`
    : "read the message and stack; no frame of the stack is in the pipeline file";
}

/** The first stack frame inside the pipeline file, as `{file, line, column}`. */
export function locate(stack: string | null, context: ClassifyContext): RunError["location"] {
  if (!stack) return null;
  const escaped = context.codeUrl.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const match = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(stack);
  if (!match) return null;
  return { file: context.filename, line: Number(match[1]), column: Number(match[2]) };
}

/** Shows the author's file name instead of Tau's internal path to the deployed copy. */
function rewritePaths(text: string, context: ClassifyContext): string {
  return text.split(context.codeUrl).join(context.filename);
}

/** Errors the parent decides on its own (the child could not or did not report them). */
export const systemErrors = {
  timeout: (ms: number): RunError => ({
    kind: "timeout",
    message: `The run exceeded its timeout of ${formatMs(ms)} and was killed`,
    hint: 'make the pipeline faster or raise timeout in its config (e.g. timeout: "30m")',
  }),
  cancelled: (): RunError => ({ kind: "cancelled", message: "The run was cancelled" }),
  outputLimit: (bytes: number): RunError => ({
    kind: "output_limit",
    message: `The run printed more than ${bytes} bytes and was killed`,
    hint: "log less: summarize rows instead of printing them",
  }),
  noResult: (code: number): RunError => ({
    kind: "invalid_output",
    message: `The run's process exited with code ${code} without reporting a result`,
    hint: "do not call Deno.exit() in a pipeline; return from the pipeline function instead",
  }),
  /** The run reported a result the trusted side refused (too large, too deep, malformed). */
  resultRefused: (reason: string): RunError => ({
    kind: "invalid_output",
    message: `The run's result was refused: ${reason}`,
    hint:
      "return a small summary (counts, ids, paths) as the result and write the data itself to a connection",
  }),
  /** Tau itself failed while running or recording the run (the store, a bug). */
  internal: (detail: string): RunError => ({
    kind: "internal",
    message: `Tau failed while supervising the run: ${detail}`,
    hint:
      "see the daemon's log ($TAU_HOME/taud.log, or stderr of taud --foreground) and run it again with tau run",
  }),
  crashed: (code: number, signal: string | null, stderr: string): RunError => {
    const oom = /out of memory|heap limit/i.test(stderr);
    const reserve = /Failed to reserve virtual memory/i.test(stderr);
    return {
      kind: oom ? "memory_limit" : "crashed",
      message: reserve
        ? "The run reserved more memory than its limit allows (too many Workers or buffers) and was killed"
        : oom
        ? "The run ran out of memory (V8 heap limit) and was killed"
        : `The run's process ended with ${signal ? `signal ${signal}` : `exit code ${code}`}`,
      stack: stderr.slice(-4000) || null,
      hint: oom
        ? "process data in batches instead of holding it all in memory"
        : "see the stack and the run's logs for what the process printed",
    };
  },
  /** A limit the supervisor or an rlimit enforced (memory, CPU, disk, threads, events…). */
  limit: (kind: RunErrorKind, detail: string): RunError => {
    const known = LIMIT_ERRORS[kind];
    return {
      kind,
      message: `${known?.message ?? "The run passed a limit"}${detail ? `: ${detail}` : ""}`,
      hint: known?.hint ?? "see the run's sandbox.limits",
    };
  },
  /** A granted name resolves to an address no run may reach. */
  forbiddenAddress: (
    violation: { target: string; address: string; reason: string },
  ): RunError => ({
    kind: "permission_denied",
    permission: "net",
    target: violation.target,
    message:
      `${violation.target} resolves to ${violation.address}, ${violation.reason}, which no run may reach`,
    hint:
      "declare the host the pipeline really needs; the daemon's port and the cloud metadata service are never reachable",
  }),
  daemonStopped: (): RunError => ({
    kind: "daemon_restart",
    message: "The daemon stopped while this run was running",
    hint: "run it again with tau run",
  }),
};

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

const LIMIT_ERRORS: Record<string, { message: string; hint: string }> = {
  memory_limit: {
    message: "The run used more memory than its limit and was killed",
    hint: "process data in batches, or raise limits.memoryMb in the pipeline config",
  },
  cpu_limit: {
    message: "The run used more CPU time than its limit and was killed",
    hint: "do less work per run, or raise limits.cpuSeconds in the pipeline config",
  },
  disk_limit: {
    message: "The run stored more in its folders than its limit and was killed",
    hint: "write less, or stream data to a connection; or raise limits.diskMb",
  },
  audit_limit: {
    message:
      "The run made so many file, network and environment accesses that their audit log passed its limit; it was killed",
    hint:
      "every open, stat, fetch and env read is checked and logged: reuse open files and connections instead of opening one per item, or raise limits.diskMb",
  },
  request_limit: {
    message: "The run sent more bytes of requests to Tau (rows to DuckDB, queries) than its limit",
    hint: "load less per run, or raise limits.requestMb in the pipeline config",
  },
  process_limit: {
    message: "The run started more threads (Workers) than allowed and was killed",
    hint: "use fewer Workers",
  },
  event_limit: {
    message: "The run sent more events (logs, steps, requests) than its limit and was killed",
    hint: "log less: summarize instead of logging per row; or raise limits.events",
  },
  channel_closed: {
    message: "The run closed its output channel (stdout) and kept running; it was killed",
    hint: "do not close Deno.stdout in a pipeline",
  },
};
