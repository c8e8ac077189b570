/**
 * The trusted side's decisions about a run's DuckDB sessions: which database a request may open
 * (a declared named connection, or an inline database inside the run's own scratch folder), the
 * directories its statements may use, and what its engine process must have mounted. The engine
 * is told the outcome; it never decides what is allowed.
 */
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Connection } from "./registry.ts";
import type { DuckDBTarget } from "./duckdb_service.ts";
import type { DirectoryMount } from "./engine_launch.ts";

export interface TargetContext {
  declared: string[];
  registry: Map<string, Connection>;
  home: string;
  /** The run's scratch folder on the host, and where the engine sees it. */
  scratch: { host: string; view: string };
  settings: { memoryLimitMb: number; threads: number };
}

export interface SessionTarget {
  /** What the engine opens, with paths as the engine sees them. */
  target: DuckDBTarget;
  /** The host file to hold while the session is open; null for memory, inline and MotherDuck. */
  heldFile: string | null;
}

/** The session a request targets; throws when the run may not open it. */
export function sessionTarget(
  request: { connection: string; inline_path?: string },
  context: TargetContext,
): SessionTarget {
  return request.inline_path === undefined
    ? namedTarget(request.connection, context)
    : { target: inlineTarget(request.inline_path, context), heldFile: null };
}

function namedTarget(name: string, context: TargetContext): SessionTarget {
  const { declared, registry, home, scratch, settings } = context;
  const c = registry.get(name);
  if (!declared.includes(name) || !c) {
    throw new Error(
      `Cannot use connection ${name}: it is not declared; add connections: ["${name}"]`,
    );
  }
  const common = {
    scratch: scratch.view,
    tempDirectory: spillDirectory(scratch.view),
    ...settings,
  };
  if (c.type === "motherduck") {
    const f = c.fields as { database: string; token: string };
    return {
      target: {
        path: `md:${f.database}?motherduck_token=${f.token}`,
        allowedDirectories: [scratch.view],
        ...common,
      },
      heldFile: null,
    };
  }
  if (c.type !== "duckdb") throw new Error(`Connection ${name} is not a DuckDB connection`);
  const f = c.fields as { path: string; allowed_directories: string[]; read_only: boolean };
  const path = resolveDatabasePath(f.path, home);
  return {
    target: {
      path,
      allowedDirectories: [...allowedDirectories(c, home), scratch.view],
      readOnly: f.read_only,
      ...common,
    },
    heldFile: databaseDirectory(path) === null ? null : path,
  };
}

/** Inline databases live in the run's scratch folder (or in memory), never elsewhere. */
function inlineTarget(path: string, context: TargetContext): DuckDBTarget {
  const { scratch, settings } = context;
  const common = {
    allowedDirectories: [scratch.view],
    scratch: scratch.view,
    tempDirectory: spillDirectory(scratch.view),
    ...settings,
  };
  if (path === ":memory:") return { path, ...common };
  const rel = relative(scratch.host, resolve(scratch.host, path));
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`Inline DuckDB databases must live in the run's scratch folder, not ${path}`);
  }
  return { path: join(scratch.view, rel), ...common };
}

/**
 * What an engine must see of the declared databases: each file's directory (DuckDB writes its
 * WAL beside it) and each allowed directory, read-only when the connection is `read_only`.
 */
export function databaseMounts(
  declared: string[],
  registry: Map<string, Connection>,
  home: string,
): DirectoryMount[] {
  const writable = new Map<string, boolean>();
  for (const name of declared) {
    const c = registry.get(name);
    if (c?.type !== "duckdb") continue;
    const f = c.fields as { path: string; read_only: boolean };
    const path = resolveDatabasePath(f.path, home);
    const dir = databaseDirectory(path);
    const dirs = [...(dir === null ? [] : [dir]), ...allowedDirectories(c, home)];
    for (const dir of dirs) writable.set(dir, (writable.get(dir) ?? false) || !f.read_only);
  }
  return [...writable].map(([path, w]) => ({ path, writable: w }));
}

/** True when a declared connection is MotherDuck: its engine needs the network. */
export function declaresMotherDuck(declared: string[], registry: Map<string, Connection>) {
  return declared.some((name) => registry.get(name)?.type === "motherduck");
}

/** Resolves a database path for a connection: relative paths are relative to `base`. */
export function resolveDatabasePath(path: string, base: string): string {
  if (path === ":memory:" || path.startsWith("md:")) return path;
  return isAbsolute(path) ? path : resolve(base, path);
}

/** The folder of a database file; null for `:memory:` and MotherDuck. */
function databaseDirectory(path: string): string | null {
  return path === ":memory:" || path.startsWith("md:") ? null : dirname(path);
}

function allowedDirectories(c: Connection, home: string): string[] {
  const dirs = (c.fields as { allowed_directories: string[] }).allowed_directories;
  return dirs.map((d) => isAbsolute(d) ? d : join(home, d));
}

/**
 * Where DuckDB spills. DuckDB quietly adds its temp directory to `allowed_directories`, and its
 * default (`.tmp` beside the database, or the engine's working directory for `:memory:`) may be
 * shared between runs; a folder in the run's scratch is neither, and counts against its disk limit.
 */
function spillDirectory(scratchView: string): string {
  return join(scratchView, ".duckdb_tmp");
}
