/**
 * End-to-end helpers: a real `taud --foreground` on a free port with a temporary TAU_HOME, and
 * the real `tau` CLI run as a subprocess against it.
 */
import { fileURLToPath } from "node:url";
import { assert } from "./assert.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const TAUD = `${ROOT}src/daemon/main.ts`;
export const TAU = `${ROOT}src/cli/main.ts`;
export const FIXTURES = `${ROOT}tests/fixtures/`;
export const EXAMPLES = `${ROOT}examples/`;

export interface CliResult {
  code: number;
  // deno-lint-ignore no-explicit-any
  json: any;
  stdout: string;
}

export interface TestDaemon {
  home: string;
  port: number;
  process: Deno.ChildProcess;
  env: Record<string, string>;
  tau(...args: string[]): Promise<CliResult>;
  /** What the daemon printed on stderr (its log lines) since it started. */
  log(): string;
  /** Deploys a fixture file (tests/fixtures/NAME) and fails loudly if it does not deploy. */
  deploy(fixture: string, ...args: string[]): Promise<CliResult>;
  /**
   * Deploys fixtures several at a time, as agents deploying at once would (the daemon then
   * type-checks the files that arrive together in one compiler run).
   */
  deployAll(fixtures: string[]): Promise<void>;
  stop(): Promise<void>;
  kill(): Promise<void>;
  restart(): Promise<void>;
}

/**
 * The environment of a `tau` or `taud` a test starts: this process's, without the TAU_*
 * variables the user may have exported (a TAU_HOST, TAU_CONFIG or TAU_PORT of theirs would point
 * the test elsewhere), plus `env`. Pass it with `clearEnv: true`. The machine's sandbox module
 * cache stays shared.
 */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const inherited = Object.entries(Deno.env.toObject())
    .filter(([name]) => !name.startsWith("TAU_") || name === "TAU_SANDBOX_CACHE");
  return { ...Object.fromEntries(inherited), ...env };
}

export async function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", TAU, ...args],
    clearEnv: true,
    env: cleanEnv(env),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(
      `tau ${args.join(" ")} printed no JSON (exit ${out.code}):\n${stdout}\n${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return { code: out.code, json, stdout };
}

async function launch(home: string, extraEnv: Record<string, string>, port = 0) {
  const process = new Deno.Command(Deno.execPath(), {
    // Any free port for the dashboard: the next one after a restart's fixed API port may be taken.
    args: ["run", "-A", TAUD, "--foreground", `--port=${port}`, "--dashboard-port=0"],
    clearEnv: true,
    env: cleanEnv({ TAU_HOME: home, ...extraEnv }),
    // No ./tau.toml of the caller's is read: only the one the test writes into its home.
    cwd: home,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stateFile = `${home}/taud.json`;
  // The first start on a machine caches the approved npm drivers (install.sh does it ahead).
  const deadline = Date.now() + 180_000;
  let stderr = "";
  const reader = process.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const drained = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += value;
    }
  })();
  const log = () => stderr;
  // A daemon that exits while starting (a broken build, a bad tau.toml) fails the test at once.
  const ended: { status: Deno.CommandStatus | null } = { status: null };
  process.status.then((status) => ended.status = status);
  while (Date.now() < deadline && !ended.status) {
    try {
      const state = JSON.parse(await Deno.readTextFile(stateFile));
      if (state.pid === process.pid) return { process, port: state.port as number, log };
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 25));
  }
  try {
    process.kill("SIGKILL");
  } catch { /* it exited by itself: stderr says why */ }
  await drained;
  const code = ended.status ? ` (exit ${ended.status.code})` : "";
  throw new Error(`taud did not start${code}:\n${stderr}`);
}

/** How many deploys a test sends at once: enough to share compiler runs, few enough for RAM. */
const DEPLOY_POOL = 6;

/** Calls `fn` on every item, at most `size` at a time; the first failure is thrown. */
export async function inPool<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

export async function startDaemon(
  extraEnv: Record<string, string> = {},
  options: { config?: string } = {},
): Promise<TestDaemon> {
  const home = await Deno.makeTempDir({ prefix: "tau_test_" });
  if (options.config) await Deno.writeTextFile(`${home}/tau.toml`, options.config);
  let { process, port, log } = await launch(home, extraEnv);
  const env = { TAU_HOME: home, NO_COLOR: "1" };
  const daemon: TestDaemon = {
    home,
    get port() {
      return port;
    },
    get process() {
      return process;
    },
    env,
    tau: (...args) => runCli(args, env),
    log: () => log(),
    async deploy(fixture, ...args) {
      const result = await runCli(["deploy", `${FIXTURES}${fixture}`, ...args], env);
      if (result.code !== 0) throw new Error(`deploy ${fixture} failed: ${result.stdout}`);
      return result;
    },
    async deployAll(fixtures) {
      await inPool(fixtures, DEPLOY_POOL, (fixture) => daemon.deploy(fixture));
    },
    async stop() {
      try {
        process.kill("SIGTERM");
      } catch { /* gone */ }
      await process.status;
      await Deno.remove(home, { recursive: true }).catch(() => {});
      // An error no promise chain caught is a bug even when the daemon survived it.
      const stray = log().split("\n").filter((line) => line.includes('"event":"internal_error"'));
      if (stray.length > 0) throw new Error(`taud logged internal errors:\n${stray.join("\n")}`);
    },
    async kill() {
      process.kill("SIGKILL");
      await process.status;
    },
    async restart() {
      ({ process, port, log } = await launch(home, extraEnv, port));
    },
  };
  return daemon;
}

/** Every byte the store keeps (the SQLite database and its write-ahead log). */
export async function storeBytes(home: string): Promise<string> {
  let all = "";
  for await (const entry of Deno.readDir(home)) {
    if (entry.name.startsWith("tau.db")) {
      all += new TextDecoder().decode(await Deno.readFile(`${home}/${entry.name}`));
    }
  }
  assert.ok(all.length > 0, "no store files found");
  return all;
}
