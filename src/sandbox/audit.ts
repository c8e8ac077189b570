/**
 * What a run actually touched, from Deno's permission audit log (`DENO_AUDIT_PERMISSIONS`: one
 * JSON line per permission check, written by the runtime itself, outside the run's reach).
 * Each declared grant is marked used or unused, so an agent can shrink a pipeline's
 * declarations to what it needs; checks outside the grants (all of them denied) are listed too.
 * The file is the child's output: it is size-capped and every line is validated.
 */
import { isAbsolute, join } from "node:path";
import { DRIVER_ENV_PROBES, type PermissionSet } from "./permissions.ts";
import { readCapped } from "./deno_process.ts";

export interface GrantUse {
  target: string;
  used: boolean;
}

export interface AccessRecord {
  /** `complete`, `truncated` (the log passed its cap) or `unavailable` (no log was written). */
  audit: "complete" | "truncated" | "unavailable";
  net: GrantUse[];
  env: GrantUse[];
  read: GrantUse[];
  write: GrantUse[];
  /** Declared connections: used when the run reached one of its hosts or sent it a request. */
  connections: { name: string; used: boolean }[];
  /** Checks for things the run was not granted (each was denied), first ones only. */
  outside: { permission: string; target: string }[];
}

export const MAX_AUDIT_BYTES = 4 * 1024 * 1024;
const MAX_OUTSIDE = 20;

/**
 * Environment names the approved drivers read on their own: those Tau grants (and never sets),
 * and `TZ`, which mysql2 reads for every result set and whose refusal it expects. They are
 * Tau's doing, not the run reaching outside its grants.
 */
const DRIVER_PROBES = new Set([...DRIVER_ENV_PROBES, "TZ"]);

interface AuditEntry {
  permission: string;
  value: string | null;
}

/**
 * The audit log's entries. Values are kept whole here: they are the run's own strings (a path,
 * a host), so the caller redacts them before cutting them to size.
 */
function parseEntries(text: string): AuditEntry[] {
  const entries: AuditEntry[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const entry = JSON.parse(line);
      if (typeof entry?.permission !== "string") continue;
      entries.push({
        permission: entry.permission.slice(0, 32),
        value: typeof entry.value === "string" ? entry.value : null,
      });
    } catch { /* a torn last line */ }
  }
  return entries;
}

/** `host:port` of a net check, which Deno logs as `host:port` or as a URL. */
function netTarget(value: string): string {
  if (!value.includes("://")) return value;
  try {
    const url = new URL(value);
    const port = url.port || (url.protocol === "https:" || url.protocol === "wss:" ? "443" : "80");
    return `${url.hostname}:${port}`;
  } catch {
    return value;
  }
}

const under = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

export interface SummarizeOptions {
  /** The log passed its cap and was cut. @default {false} */
  truncated?: boolean;
  /** The run's working directory, for relative paths. @default {the first write grant} */
  cwd?: string;
  /**
   * Makes a target the run asked for fit to store (redacted, cut to size); applied to every
   * `outside` target. @default {cut to 512 characters}
   */
  target?: (value: string) => string;
}

/**
 * Summarizes an audit log against the grants. `connectionHosts` maps each declared connection
 * to its hosts; `requested` holds the connections the run sent trusted-side requests to.
 */
export function summarizeAudit(
  text: string | null,
  grants: Pick<PermissionSet, "net" | "env" | "read" | "write">,
  connectionHosts: Map<string, string[]>,
  requested: ReadonlySet<string>,
  options: SummarizeOptions = {},
): AccessRecord {
  const truncated = options.truncated ?? false;
  const cwd = options.cwd ?? grants.write[0] ?? "/";
  const stored = options.target ?? ((value: string) => value.slice(0, 512));
  const entries = text === null ? [] : parseEntries(text);
  const used = { net: new Set<string>(), env: new Set<string>(), read: new Set<string>() };
  const usedWrite = new Set<string>();
  const outside: AccessRecord["outside"] = [];
  const seenOutside = new Set<string>();
  const note = (permission: string, target: string) => {
    const key = `${permission} ${target}`;
    if (seenOutside.has(key) || outside.length >= MAX_OUTSIDE) return;
    seenOutside.add(key);
    outside.push({ permission, target: stored(target) });
  };
  for (const { permission, value } of entries) {
    const target = value ?? "";
    switch (permission) {
      case "net": {
        const hostPort = netTarget(target);
        if (grants.net.includes(hostPort)) used.net.add(hostPort);
        else if (!isResolvedForm(hostPort, used.net)) note("net", hostPort);
        break;
      }
      case "env":
        if (grants.env.includes(target)) used.env.add(target);
        else if (!DRIVER_PROBES.has(target)) note("env", target);
        break;
      case "read":
      case "write": {
        // Deno logs paths as the run wrote them; relative ones are relative to its scratch.
        const path = isAbsolute(target) ? target : join(cwd, target);
        const root = (permission === "read" ? grants.read : grants.write).find((r) =>
          under(path, r)
        );
        if (root) (permission === "read" ? used.read : usedWrite).add(root);
        else note(permission, path);
        break;
      }
      default:
        note(permission, target);
    }
  }
  const mark = (list: string[], set: Set<string>) =>
    list.map((target) => ({ target, used: set.has(target) }));
  return {
    audit: text === null ? "unavailable" : truncated ? "truncated" : "complete",
    net: mark(grants.net, used.net),
    env: mark(grants.env, used.env),
    read: mark(grants.read, used.read),
    write: mark(grants.write, usedWrite),
    connections: [...connectionHosts].map(([name, hosts]) => ({
      name,
      used: requested.has(name) || hosts.some((h) => used.net.has(h)),
    })),
    outside,
  };
}

/**
 * Connecting by name makes Deno check the name and then each address it resolved to; the
 * address check of a granted name is not an attempt to go elsewhere.
 */
function isResolvedForm(hostPort: string, usedNet: Set<string>): boolean {
  const port = hostPort.slice(hostPort.lastIndexOf(":") + 1);
  const host = hostPort.slice(0, hostPort.lastIndexOf(":"));
  const isAddress = /^[\d.]+$/.test(host) || host.startsWith("[");
  return isAddress && [...usedNet].some((granted) => granted.endsWith(`:${port}`));
}

export interface UnusedGrantWarning {
  code: "unused_permission";
  permission: "net" | "env" | "connection";
  target: string;
  /** How many recent runs with a complete audit never used it. */
  runs: number;
  message: string;
}

/**
 * Declared grants that none of the given runs used (only runs whose audit is complete count;
 * at least one must exist). `tau show` prints these so an agent can tighten the pipeline.
 */
export function unusedGrants(records: readonly unknown[]): UnusedGrantWarning[] {
  const complete = records.filter((r): r is AccessRecord =>
    typeof r === "object" && r !== null && (r as AccessRecord).audit === "complete"
  );
  if (complete.length === 0) return [];
  const everUsed = new Set<string>();
  const declared = new Map<
    string,
    { permission: UnusedGrantWarning["permission"]; target: string }
  >();
  for (const record of complete) {
    const grants = [
      ...record.net.map((g) => ({ permission: "net" as const, target: g.target, used: g.used })),
      ...record.env.map((g) => ({ permission: "env" as const, target: g.target, used: g.used })),
      ...record.connections.map((c) => ({
        permission: "connection" as const,
        target: c.name,
        used: c.used,
      })),
    ];
    for (const grant of grants) {
      const key = `${grant.permission} ${grant.target}`;
      declared.set(key, grant);
      if (grant.used) everUsed.add(key);
    }
  }
  return [...declared].filter(([key]) => !everUsed.has(key)).map(([, grant]) => ({
    code: "unused_permission",
    ...grant,
    runs: complete.length,
    message: `${grant.permission} ${grant.target} was declared but not used in the last ${
      complete.length === 1 ? "run" : `${complete.length} runs`
    }`,
  }));
}

/** The audit log, capped: it is written by the child's runtime, so its size is the child's. */
export async function readAuditLog(path: string): Promise<[string | null, boolean]> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
  } catch {
    return [null, false];
  }
  try {
    const text = await readCapped(file.readable, MAX_AUDIT_BYTES + 1);
    return [text.slice(0, MAX_AUDIT_BYTES), text.length > MAX_AUDIT_BYTES];
  } catch {
    return [null, false];
  }
}
