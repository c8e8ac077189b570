/** Shared by the benchmarks: a real `taud --foreground` on a free port, and a percentile. */
import { fileURLToPath } from "node:url";

const MAIN = fileURLToPath(new URL("../src/daemon/main.ts", import.meta.url));

export interface BenchDaemon {
  port: number;
  /** Everything the daemon wrote on stderr so far. */
  stderr(): string;
  /** One authenticated API call; throws on an HTTP error. */
  // deno-lint-ignore no-explicit-any
  api(method: string, path: string, body?: unknown): Promise<any>;
  /** SIGTERM, then waits for the process to end. */
  stop(): Promise<void>;
}

/**
 * Starts the daemon and waits for its state file. `cwd` matters: a ./tau.toml there wins over
 * $TAU_HOME/tau.toml. The first start on a machine may cache the approved npm drivers.
 */
export async function startBenchDaemon(
  home: string,
  options: { cwd: string; timeoutMs?: number; role?: string },
): Promise<BenchDaemon> {
  const role = options.role ? [`--role=${options.role}`] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "--foreground", "--port=0", ...role],
    cwd: options.cwd,
    env: { TAU_HOME: home },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  (async () => {
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) stderr += text;
  })();
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch { /* already gone */ }
    await child.status;
  };
  for (const deadline = Date.now() + (options.timeoutMs ?? 180_000); Date.now() < deadline;) {
    try {
      const state = JSON.parse(await Deno.readTextFile(`${home}/taud.json`));
      if (state.pid === child.pid) {
        const port = state.port as number;
        const key = (await Deno.readTextFile(`${home}/api_key`)).trim();
        const api = async (method: string, path: string, body?: unknown) => {
          const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
            method,
            headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
            ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          });
          const json = await res.json();
          if (!res.ok) {
            throw new Error(`${method} ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
          }
          return json;
        };
        return { port, api, stderr: () => stderr, stop };
      }
    } catch { /* not written yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  await stop();
  throw new Error(`taud did not start:\n${stderr}`);
}

/** Nearest-rank percentile (with fewer than 100 samples, p99 is the largest). */
export function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
