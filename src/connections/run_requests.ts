/**
 * Serves one run attempt's requests over its channel: today DuckDB/MotherDuck. The daemon
 * validates each request and decides which session it targets — a connection the pipeline
 * declared, or an inline database inside the run's own scratch folder — and a DuckDB engine
 * process of the run's own (engine_main.ts), started on its first request and killed when the
 * run ends, executes it. No query runs in, or allocates in, the daemon.
 */
import type { Connection } from "./registry.ts";
import type { RunLimits } from "../sandbox/limits.ts";
import type { OsBoundary } from "../sandbox/os_boundary.ts";
import { copyCaches, linkModuleCache } from "../sandbox/deno_dir.ts";
import type { DuckDBTarget } from "./duckdb_service.ts";
import { databaseMounts, declaresMotherDuck, sessionTarget } from "./duckdb_targets.ts";
import { engineInstall } from "./engine_install.ts";
import { engineLaunch, engineSettings } from "./engine_launch.ts";
import { EngineProcess } from "./engine_process.ts";
import { type FileHold, holdFile } from "./file_holds.ts";
import { type ParsedRequest, parseRequest, SESSION_OPS } from "./request_schemas.ts";

export { REQUEST_OPS } from "./request_schemas.ts";

export interface RunRequestsOptions {
  /** Connections the pipeline declared. */
  declared: string[];
  registry: Map<string, Connection>;
  /** TAU_HOME: relative database paths resolve here. */
  home: string;
  /** The run's scratch folder on the host. */
  scratchDir: string;
  /**
   * The path the run's own code sees for its scratch folder (a neutral path such as
   * /tau/scratch when the run is inside bubblewrap). Under bubblewrap the engine sees the
   * scratch folder there too, as its working directory, DuckDB allowed directory and spill
   * folder parent, so `read_csv('x.csv')` means the same file to the run and to DuckDB. Without
   * bubblewrap the host path is used.
   * @default {scratchDir}
   */
  scratchView?: string;
  limits: Pick<RunLimits, "memory_mb" | "cpu_s" | "threads" | "timeout_ms">;
  /** NO_OS_BOUNDARY: the engine runs without bubblewrap (and without prlimit). */
  boundary: OsBoundary;
}

export interface RequestHandler {
  /**
   * Serves one request. Resolves with the reply value as JSON text; rejects with an Error whose
   * message is fit to show the run (an invalid or unknown request, a refused target, DuckDB's
   * own error, or the engine's end).
   */
  handle(op: string, payload: Record<string, unknown>): Promise<string>;
  /** Pids of engine processes working for this run right now ([] before the first request). */
  enginePids(): number[];
  /**
   * Ends all engine work now: a graceful close (checkpoint) for at most ~1 s, then SIGKILL;
   * pending handle() calls reject ("The run ended"). Idempotent, never throws.
   */
  close(): Promise<void>;
}

/** How long an engine may take to close its databases once the run has ended. */
const CLOSE_GRACE_MS = 1_000;

export function runRequests(options: RunRequestsOptions): RequestHandler {
  return new RunRequests(options);
}

class RunRequests implements RequestHandler {
  readonly #options: RunRequestsOptions;
  readonly #scratchView: string;
  /** Session ids by target (`named:NAME`, `inline:PATH`), once their file is held. */
  readonly #sessions = new Map<string, Promise<number>>();
  readonly #holds: FileHold[] = [];
  readonly #heldFiles = new Set<string>();
  #engine: Promise<EngineProcess> | undefined;
  /** The engine once spawned (enginePids() cannot wait for {@link #engine}). */
  #live: EngineProcess | undefined;
  #denoDir: string | undefined;
  #closing: Promise<void> | undefined;
  /** Rejects when the run ends, so requests waiting for a database file stop waiting. */
  readonly #ended: Promise<never>;
  #end!: (reason: Error) => void;

  constructor(options: RunRequestsOptions) {
    this.#options = options;
    const bubblewrap = options.boundary.mechanism === "bubblewrap";
    this.#scratchView = bubblewrap ? options.scratchView ?? options.scratchDir : options.scratchDir;
    this.#ended = new Promise<never>((_, reject) => this.#end = reject);
    this.#ended.catch(() => {});
  }

  async handle(op: string, payload: Record<string, unknown>): Promise<string> {
    const request = parseRequest(op, payload);
    if (this.#closing) throw new Error("The run ended");
    const session = SESSION_OPS.has(op) ? await this.#session(request) : undefined;
    const engine = await this.#startedEngine();
    return await engine.request(op, session, request.args);
  }

  enginePids(): number[] {
    return this.#live?.running ? [this.#live.pid] : [];
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** The session id of a request's target, holding its database file first. */
  #session(request: ParsedRequest): Promise<number> {
    const { target } = request;
    const key = target.inline_path === undefined
      ? `named:${target.connection}`
      : `inline:${target.inline_path}`;
    let session = this.#sessions.get(key);
    if (!session) {
      const { declared, registry, home, scratchDir, limits } = this.#options;
      const decided = sessionTarget(target, {
        declared,
        registry,
        home,
        scratch: { host: scratchDir, view: this.#scratchView },
        settings: engineSettings(limits),
      });
      const id = this.#sessions.size + 1;
      session = this.#openSession(id, decided.target, decided.heldFile);
      this.#sessions.set(key, session);
    }
    return session;
  }

  async #openSession(id: number, target: DuckDBTarget, heldFile: string | null): Promise<number> {
    if (heldFile !== null && !this.#heldFiles.has(heldFile)) {
      this.#heldFiles.add(heldFile);
      const hold = holdFile(heldFile);
      this.#holds.push(hold);
      await Promise.race([hold.ready, this.#ended]);
    }
    const engine = await this.#startedEngine();
    engine.open({ op: "open", session: id, target });
    return id;
  }

  #startedEngine(): Promise<EngineProcess> {
    this.#engine ??= this.#startEngine();
    return Promise.race([this.#engine, this.#ended]);
  }

  async #startEngine(): Promise<EngineProcess> {
    const { declared, registry, home, scratchDir, limits, boundary } = this.#options;
    const install = await engineInstall();
    const denoDir = this.#denoDir = await Deno.makeTempDir({ prefix: "tau_engine_" });
    if (install.template) await copyCaches(install.template, denoDir);
    await linkModuleCache(install.moduleCache, denoDir);
    if (this.#closing) throw new Error("The run ended");
    const engine = new EngineProcess(
      engineLaunch({
        install,
        boundary,
        limits,
        denoDir,
        scratchDir,
        scratchView: this.#scratchView,
        databases: databaseMounts(declared, registry, home),
        network: declaresMotherDuck(declared, registry),
      }),
      limits.timeout_ms,
    );
    this.#live = engine;
    // An engine that died on its own no longer locks its files.
    void engine.exited.then(() => this.#releaseHolds());
    return engine;
  }

  async #close(): Promise<void> {
    const ended = new Error("The run ended");
    this.#end(ended);
    const engine = await this.#engine?.catch(() => undefined);
    await engine?.stop(ended, CLOSE_GRACE_MS);
    this.#releaseHolds();
    if (this.#denoDir) await Deno.remove(this.#denoDir, { recursive: true }).catch(() => {});
  }

  #releaseHolds(): void {
    for (const hold of this.#holds) hold.release();
  }
}
