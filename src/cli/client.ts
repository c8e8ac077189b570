/**
 * The CLI's way to the daemon. `TAU_HOST` and `TAU_API_KEY` point it anywhere; without them it
 * finds the local daemon of `TAU_HOME` (its address in taud.json, its key in api_key). It never
 * guesses an address: with neither, it says so instead of talking to whatever listens on 8400.
 */
import { TauError } from "../core/errors.ts";
import { readApiKey } from "../config/api_key.ts";
import { resolveHome, type TauPaths, tauPaths } from "../config/paths.ts";
import { clientUrl, type DaemonState, isAlive, readState } from "../daemon/state.ts";
import { proxied, requestDirect } from "./http.ts";

export interface Client {
  baseUrl: string;
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

type Env = { get(name: string): string | undefined };

/** Where the address came from: the user's TAU_HOST, or the local daemon's taud.json. */
type Target =
  | { source: "TAU_HOST"; baseUrl: string }
  | { source: "taud.json"; baseUrl: string; state: DaemonState };

export async function connect(env: Env = Deno.env): Promise<Client> {
  const paths = tauPaths(resolveHome(env));
  const target = await locate(env, paths);
  const baseUrl = target.baseUrl;
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(new URL(baseUrl).hostname);
  const key = env.get("TAU_API_KEY") || (local ? await readApiKey(paths) : undefined);
  // The daemon of taud.json is asked over a plain connection (see http.ts), unless the
  // environment sets a proxy for fetch; whatever that cannot send, fetch sends.
  const direct = target.source === "taud.json" && !proxied();

  return {
    baseUrl,
    async request(method, path, body) {
      const url = `${baseUrl}/api/v1${path}`;
      const headers: Record<string, string> = {
        ...(key ? { authorization: `Bearer ${key}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      };
      let response: { status: number; ok: boolean; text(): Promise<string> };
      try {
        const payload = body !== undefined ? JSON.stringify(body) : undefined;
        response = (direct ? await requestDirect(new URL(url), method, headers, payload) : null) ??
          await fetch(url, {
            method,
            headers,
            ...(payload !== undefined ? { body: payload } : {}),
          });
      } catch (err) {
        throw unreachable(target, paths, err);
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new TauError(
          "internal",
          `taud answered HTTP ${response.status} with a body that is not JSON`,
          { hint: `check that ${baseUrl} is a taud API (tau status against it, or TAU_HOST)` },
        );
      }
      if (response.status === 401 && !key) throw noKey(target, local ? paths.apiKey : null, json);
      if (!response.ok) throw new RemoteError(response.status, json);
      return json;
    },
  };
}

/** The daemon's address, or daemon_unreachable when there is none to try. */
async function locate(env: Env, paths: TauPaths): Promise<Target> {
  const host = env.get("TAU_HOST");
  if (host) {
    const url = (/^https?:\/\//.test(host) ? host : `http://${host}`).replace(/\/+$/, "");
    if (!URL.canParse(url)) {
      throw new TauError("invalid_params", `TAU_HOST is not a URL: ${JSON.stringify(host)}`, {
        hint: "e.g. TAU_HOST=http://tau.internal:8400, or unset it to use the local daemon",
      });
    }
    return { source: "TAU_HOST", baseUrl: url };
  }
  const state = await readState(paths);
  if (!state) {
    throw new TauError(
      "daemon_unreachable",
      `No taud to ask: ${paths.stateFile} does not exist (no daemon started with ` +
        `TAU_HOME=${paths.home}) and TAU_HOST is not set`,
      {
        hint: `start the daemon with taud (same TAU_HOME), or set TAU_HOST and TAU_API_KEY ` +
          `to use one elsewhere`,
        details: { url: null, source: null, home: paths.home, state_file: paths.stateFile },
      },
    );
  }
  if (!state.port) {
    throw new TauError(
      "daemon_unreachable",
      `The taud of TAU_HOME=${paths.home} (pid ${state.pid}, roles ${
        (state.roles ?? []).join(",") || "none"
      }) serves no API`,
      {
        hint: "set TAU_HOST (and TAU_API_KEY) to a taud started with the api role",
        details: { url: null, source: "taud.json", home: paths.home, pid: state.pid },
      },
    );
  }
  return { source: "taud.json", baseUrl: clientUrl(state), state };
}

/** Why a request found no daemon: the address, where it came from, and the network's reason. */
function unreachable(target: Target, paths: TauPaths, err: unknown): TauError {
  const cause = (err as Error)?.cause instanceof Error ? (err as Error).cause as Error : null;
  const raw = cause?.message ?? (err as Error)?.message ?? String(err);
  const reason = networkReason(raw);
  const details = { url: target.baseUrl, source: target.source, reason, cause: raw };
  if (target.source === "TAU_HOST") {
    return new TauError(
      "daemon_unreachable",
      `Cannot reach taud at ${target.baseUrl} (from TAU_HOST): ${reason}`,
      {
        hint: "check TAU_HOST and that the daemon is up there; unset TAU_HOST to use the " +
          `local daemon of TAU_HOME (${paths.home})`,
        details,
      },
    );
  }
  const { pid } = target.state;
  const stale = !isAlive(pid);
  return new TauError(
    "daemon_unreachable",
    `Cannot reach taud at ${target.baseUrl} (from ${paths.stateFile}): ${reason}` +
      (stale ? `; its pid ${pid} is not running, so that file is stale` : `; pid ${pid} is alive`),
    {
      hint: stale
        ? `start the daemon again with taud (TAU_HOME=${paths.home})`
        : `see ${paths.logFile}, or restart it with taud stop, then taud`,
      details: { ...details, home: paths.home, pid, stale },
    },
  );
}

/** The short reason of a failed fetch, from Deno's error text. */
function networkReason(message: string): string {
  if (/connection refused/i.test(message)) return "connection refused";
  if (/dns error|lookup address|name or service not known/i.test(message)) {
    return "host name not found (DNS)";
  }
  if (/timed out/i.test(message)) return "connection timed out";
  if (/certificate|tls|ssl/i.test(message)) return `TLS error: ${message}`;
  return message;
}

/** A 401 to a request sent without a key: say that no key was sent, and where one comes from. */
function noKey(target: Target, keyFile: string | null, body: unknown): RemoteError {
  const error = (body as { error?: Record<string, unknown> }).error ?? {};
  return new RemoteError(401, {
    error: {
      ...error,
      code: "unauthorized",
      message: `taud at ${target.baseUrl} (from ${target.source}) wants an API key and none ` +
        `was sent: TAU_API_KEY is not set` +
        (keyFile
          ? ` and ${keyFile} does not exist`
          : " (a key file is read for local daemons only)"),
      hint: "set TAU_API_KEY to a key of that daemon (tau keys create, run against it with " +
        "an admin key)",
    },
  });
}

/** An error document returned by the daemon, printed as it came. */
export class RemoteError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`HTTP ${status}`);
  }
}
