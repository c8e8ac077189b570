/** Starting the daemon in the background and stopping it, from the `taud` command. */
import { fileURLToPath } from "node:url";
import { TauError } from "../core/errors.ts";
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
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `--config=${CONFIG}`,
      MAIN,
      "--foreground",
      `--log-file=${paths.logFile}`,
      ...args,
    ],
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
  const tail = (await Deno.readTextFile(paths.logFile).catch(() => "")).trim().split("\n").slice(-5)
    .join("\n");
  throw new TauError(
    "internal",
    `taud did not start${exited ? ` (exit code ${(exited as { code: number }).code})` : ""}`,
    {
      hint: `see ${paths.logFile}: ${tail}`,
    },
  );
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
