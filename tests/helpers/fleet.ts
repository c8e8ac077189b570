/**
 * Several real `taud` processes on one PostgreSQL database, each with a TAU_HOME of its own (as
 * on separate machines): a schema per test keeps parallel tests apart.
 */
import postgres from "postgres";
import { cleanEnv, runCli, TAUD } from "./daemon.ts";

export const PG_URL = Deno.env.get("TAU_TEST_DATABASE_URL") ??
  "postgres://postgres@127.0.0.1:5432/test";

export interface FleetDaemon {
  home: string;
  pid: number;
  port: number;
  roles: string;
  /** Everything it logged so far (JSON lines). */
  log(): string;
  signal(sig: Deno.Signal): void;
  exited: Promise<Deno.CommandStatus>;
}

export interface StartOptions {
  tags?: string;
  /** tau.toml of this daemon. */
  config?: string;
  /** Extra environment (a worker's secrets). */
  env?: Record<string, string>;
}

export interface Fleet {
  schema: string;
  url: string;
  sql: postgres.Sql;
  start(roles: string, options?: StartOptions): Promise<FleetDaemon>;
  /** The `tau` CLI against an API daemon. */
  tau(api: FleetDaemon, ...args: string[]): ReturnType<typeof runCli>;
  close(): Promise<void>;
}

export async function startFleet(): Promise<Fleet> {
  const schema = `tau_fleet_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
  const admin = postgres(PG_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = `${PG_URL}${PG_URL.includes("?") ? "&" : "?"}search_path=${schema}`;
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  const daemons: FleetDaemon[] = [];
  const homes: string[] = [];

  const start = async (roles: string, options: StartOptions = {}) => {
    const home = await Deno.makeTempDir({ prefix: "tau_fleet_" });
    homes.push(home);
    if (options.config) await Deno.writeTextFile(`${home}/tau.toml`, options.config);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        TAUD,
        "--foreground",
        "--port=0",
        `--role=${roles}`,
        ...(options.tags ? [`--tags=${options.tags}`] : []),
      ],
      clearEnv: true,
      env: cleanEnv({ ...options.env, TAU_HOME: home, TAU_DATABASE_URL: url }),
      cwd: home,
      stdout: "null",
      stderr: "piped",
    }).spawn();
    let log = "";
    (async () => {
      for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) log += text;
    })();
    const exited = child.status;
    for (const deadline = Date.now() + 120_000; Date.now() < deadline;) {
      const state = await Deno.readTextFile(`${home}/taud.json`).then(JSON.parse, () => null);
      if (state?.pid === child.pid) {
        const daemon: FleetDaemon = {
          home,
          pid: child.pid,
          port: state.port,
          roles,
          log: () => log,
          signal: (sig) => {
            try {
              child.kill(sig);
            } catch { /* gone */ }
          },
          exited,
        };
        daemons.push(daemon);
        return daemon;
      }
      const done = await Promise.race([exited, new Promise((r) => setTimeout(r, 50))]);
      if (done) throw new Error(`taud --role=${roles} exited early:\n${log}`);
    }
    throw new Error(`taud --role=${roles} did not start:\n${log}`);
  };

  return {
    schema,
    url,
    sql,
    start,
    tau: async (api, ...args) =>
      runCli(args, {
        TAU_HOST: `http://127.0.0.1:${api.port}`,
        TAU_API_KEY: (await Deno.readTextFile(`${api.home}/api_key`)).trim(),
        TAU_HOME: api.home,
      }),
    async close() {
      for (const d of daemons) d.signal("SIGKILL");
      await Promise.allSettled(daemons.map((d) => d.exited));
      await sql.end();
      const drop = postgres(PG_URL, { max: 1, onnotice: () => {} });
      await drop.unsafe(`DROP SCHEMA ${schema} CASCADE`);
      await drop.end();
      for (const home of homes) await Deno.remove(home, { recursive: true }).catch(() => {});
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 60_000,
): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
