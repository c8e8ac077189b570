/** Starting the daemon in the background and stopping it, from the `taud` command. */
import { fileURLToPath } from "node:url";
import { type ErrorBody, type ErrorCode, TauError } from "../core/errors.ts";
import { prepareHome } from "../config/home.ts";
import type { TauPaths } from "../config/paths.ts";
import { clientUrl, isAlive, readState } from "./state.ts";

const MAIN = fileURLToPath(new URL("./main.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../../deno.json", import.meta.url));

/** Starts `taud --foreground` detached; returns at once if a daemon of this home is up. */
export async function startBackground(paths: TauPaths, args: string[]) {
  const running = await readState(paths);
  if (running && isAlive(running.pid)) {
    return {
      status: "already_running",
      pid: running.pid,
      host: running.host,
      port: running.port,
      home: paths.home,
      url: clientUrl(running),
    };
  }
  await prepareHome(paths);
  await Deno.remove(paths.stateFile).catch(() => {});
  // A compiled taud starts itself; from a checkout, deno runs main.ts with the project config.
  const self = Deno.build.standalone ? [] : ["run", "-A", `--config=${CONFIG}`, MAIN];
  const child = new Deno.Command(Deno.execPath(), {
    args: [...self, "--foreground", `--log-file=${paths.logFile}`, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached: true,
  }).spawn();
  const deadline = Date.now() + 20_000;
  let exited: { code: number } | null = null;
  child.status.then((s) => exited = s);
  while (Date.now() < deadline) {
    const state = await readState(paths);
    if (state && state.pid === child.pid) {
      child.unref();
      return {
        status: "started",
        pid: state.pid,
        host: state.host,
        port: state.port,
        home: paths.home,
        url: clientUrl(state),
        log: paths.logFile,
      };
    }
    if (exited) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!exited) child.unref();
  throw await startError(paths, child.pid, exited);
}

/** What a background start's child wrote to the log before it exited (see main.ts). */
interface StartFailure {
  event: "start_failed";
  pid: number;
  error: ErrorBody;
}

/** Records in the log why this process could not start, for the background start to print. */
export function logStartFailure(logFile: string, error: ErrorBody): void {
  const line: StartFailure & { ts: string } = {
    ts: new Date().toISOString(),
    event: "start_failed",
    pid: Deno.pid,
    error,
  };
  Deno.writeTextFileSync(logFile, JSON.stringify(line) + "\n", { append: true });
}

/** The child's own error when it logged one; else what is known, naming only a log that exists. */
async function startError(paths: TauPaths, pid: number, exited: { code: number } | null) {
  const text = await Deno.readTextFile(paths.logFile).catch(() => null);
  const failure = (text ?? "").split("\n").map((line) => {
    try {
      return JSON.parse(line) as StartFailure;
    } catch {
      return null;
    }
  }).findLast((entry) => entry?.event === "start_failed" && entry.pid === pid);
  if (failure) {
    const { code, message, hint, details, location } = failure.error;
    return new TauError(code as ErrorCode, message, {
      ...(hint ? { hint } : {}),
      ...(details !== undefined ? { details } : {}),
      ...(location !== undefined ? { location } : {}),
    });
  }
  const log = text === null ? "" : `; its log is ${paths.logFile}`;
  return exited
    ? new TauError("internal", `taud exited with code ${exited.code} before it started${log}`, {
      hint: "run taud --foreground to see its output",
    })
    : new TauError("internal", `taud (pid ${pid}) did not start within 20 s${log}`, {
      hint: `it may still be starting: tau status answers once it is up; kill ${pid} to stop it`,
    });
}

export async function stopDaemon(paths: TauPaths) {
  const state = await readState(paths);
  if (!state || !isAlive(state.pid)) {
    await Deno.remove(paths.stateFile).catch(() => {});
    return { status: "not_running", home: paths.home };
  }
  Deno.kill(state.pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline && isAlive(state.pid)) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(state.pid)) Deno.kill(state.pid, "SIGKILL");
  return { status: "stopped", pid: state.pid, home: paths.home };
}
