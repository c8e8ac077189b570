/**
 * Serves one run attempt's requests over its channel: today DuckDB/MotherDuck, which run on the
 * trusted side. A request may only name a connection the pipeline declared (or, for inline
 * DuckDB, a database inside the run's own scratch folder).
 */
import { isAbsolute, join, relative, resolve } from "node:path";
import type { Connection } from "./registry.ts";
import { DuckDBSession, resolveDatabasePath } from "./duckdb_service.ts";
import { DuckDBRequests } from "./duckdb_requests.ts";

export interface RequestHandler {
  handle(op: string, payload: Record<string, unknown>): Promise<unknown>;
  close(): void;
}

export function runRequests(
  declared: string[],
  registry: Map<string, Connection>,
  home: string,
  scratchDir: string,
): RequestHandler {
  const sessions = new Map<string, DuckDBSession>();
  const sessionFor = (p: Record<string, unknown>): DuckDBSession => {
    const name = String(p.connection ?? "");
    const inline = typeof p.inline_path === "string" ? p.inline_path : null;
    const key = inline === null ? `named:${name}` : `inline:${inline}`;
    const existing = sessions.get(key);
    if (existing) return existing;
    const session = new DuckDBSession(
      inline === null
        ? namedTarget(name, declared, registry, home, scratchDir)
        : inlineTarget(inline, scratchDir),
    );
    sessions.set(key, session);
    return session;
  };
  const duckdb = new DuckDBRequests(sessionFor);
  return {
    handle: (op, payload) => {
      if (op.startsWith("duckdb.")) return duckdb.handle(op, payload);
      return Promise.reject(new Error(`Unknown request ${op}`));
    },
    close: () => {
      for (const session of sessions.values()) session.close();
    },
  };
}

function namedTarget(
  name: string,
  declared: string[],
  registry: Map<string, Connection>,
  home: string,
  scratchDir: string,
) {
  const c = registry.get(name);
  if (!declared.includes(name) || !c) {
    throw new Error(
      `Cannot use connection ${name}: it is not declared; add connections: ["${name}"]`,
    );
  }
  if (c.type === "motherduck") {
    const f = c.fields as { database: string; token: string };
    return {
      path: `md:${f.database}?motherduck_token=${f.token}`,
      allowedDirectories: [scratchDir],
      tempDirectory: spillDirectory(scratchDir),
    };
  }
  if (c.type !== "duckdb") throw new Error(`Connection ${name} is not a DuckDB connection`);
  const f = c.fields as { path: string; allowed_directories: string[]; read_only: boolean };
  return {
    path: resolveDatabasePath(f.path, home),
    allowedDirectories: [
      ...f.allowed_directories.map((d) => isAbsolute(d) ? d : join(home, d)),
      scratchDir,
    ],
    tempDirectory: spillDirectory(scratchDir),
    readOnly: f.read_only,
  };
}

/** Inline databases live in the run's scratch folder (or in memory), never elsewhere. */
function inlineTarget(path: string, scratchDir: string) {
  const tempDirectory = spillDirectory(scratchDir);
  if (path === ":memory:") return { path, allowedDirectories: [scratchDir], tempDirectory };
  const full = resolve(scratchDir, path);
  const rel = relative(scratchDir, full);
  if (rel.startsWith("..") || isAbsolute(rel)) {
    throw new Error(`Inline DuckDB databases must live in the run's scratch folder, not ${path}`);
  }
  return { path: full, allowedDirectories: [scratchDir], tempDirectory };
}

/** DuckDB's spill folder: inside the run's scratch, so it counts against the disk limit. */
function spillDirectory(scratchDir: string): string {
  return join(scratchDir, ".duckdb_tmp");
}
