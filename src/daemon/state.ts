/** The running daemon's pid and address, so `taud stop` and the CLI can find it. */
import type { TauPaths } from "../config/paths.ts";

export interface DaemonState {
  pid: number;
  host: string;
  /** 0 when this process serves no API (role worker or scheduler only). */
  port: number;
  home: string;
  started_at: string;
  roles?: string[];
}

export async function writeState(paths: TauPaths, state: DaemonState): Promise<void> {
  await Deno.writeTextFile(paths.pidFile, `${state.pid}\n`);
  const tmp = `${paths.stateFile}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(state) + "\n", { mode: 0o600 });
  await Deno.rename(tmp, paths.stateFile);
}

/**
 * The state file's content, or null. Read synchronously (a small local file): on the CLI's
 * start an async read costs ~1 ms more.
 */
export function readState(paths: TauPaths): Promise<DaemonState | null> {
  try {
    return Promise.resolve(JSON.parse(Deno.readTextFileSync(paths.stateFile)) as DaemonState);
  } catch {
    return Promise.resolve(null);
  }
}

export function isAlive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** The address a client should use for a daemon bound to `host`. */
export function clientUrl(state: Pick<DaemonState, "host" | "port">): string {
  const host = state.host === "0.0.0.0" || state.host === "::" ? "127.0.0.1" : state.host;
  return `http://${host.includes(":") ? `[${host}]` : host}:${state.port}`;
}
