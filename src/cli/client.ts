/**
 * The CLI's way to the daemon. `TAU_HOST` and `TAU_API_KEY` point it anywhere; without them it
 * finds the local daemon of `TAU_HOME` (its address in taud.json, its key in api_key).
 */
import { TauError } from "../core/errors.ts";
import { readApiKey } from "../config/home.ts";
import { resolveHome, tauPaths } from "../config/paths.ts";
import { clientUrl, readState } from "../daemon/state.ts";

export interface Client {
  baseUrl: string;
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

type Env = { get(name: string): string | undefined };

export async function connect(env: Env = Deno.env): Promise<Client> {
  const paths = tauPaths(resolveHome(env));
  let baseUrl = env.get("TAU_HOST");
  if (!baseUrl) {
    const state = await readState(paths);
    baseUrl = state ? clientUrl(state) : `http://localhost:${env.get("TAU_PORT") || 8400}`;
  }
  if (!/^https?:\/\//.test(baseUrl)) baseUrl = `http://${baseUrl}`;
  baseUrl = baseUrl.replace(/\/+$/, "");
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(new URL(baseUrl).hostname);
  const key = env.get("TAU_API_KEY") || (local ? await readApiKey(paths) : undefined);

  return {
    baseUrl,
    async request(method, path, body) {
      let response: Response;
      try {
        response = await fetch(`${baseUrl}/api/v1${path}`, {
          method,
          headers: {
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(body !== undefined ? { "content-type": "application/json" } : {}),
          },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      } catch (err) {
        throw new TauError(
          "daemon_unreachable",
          `Cannot reach taud at ${baseUrl}: ${(err as Error).message}`,
          {
            hint: local ? "start it with taud" : "check TAU_HOST and that the daemon is up",
          },
        );
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new TauError(
          "internal",
          `taud answered HTTP ${response.status} with a body that is not JSON`,
        );
      }
      if (!response.ok) throw new RemoteError(response.status, json);
      return json;
    },
  };
}

/** An error document returned by the daemon, printed as it came. */
export class RemoteError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`HTTP ${status}`);
  }
}
