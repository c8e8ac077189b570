/** `tau connections --test NAME`: connects for real from the trusted side and times it. */
import { connectNamed } from "../../sdk/connectors/_named.ts";
import type { Connection } from "./registry.ts";
import { hostsFor, runsOnTrustedSide, secretValues } from "./registry.ts";
import { resolveConnections } from "./resolve.ts";
import { makeRedactor } from "../runner/redact.ts";
import { runRequests } from "./run_requests.ts";
import { NO_OS_BOUNDARY, type OsBoundary } from "../sandbox/os_boundary.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { errorText } from "../core/errors.ts";

export interface ConnectionTest {
  name: string;
  type: string;
  hosts: string[];
  ok: boolean;
  latency_ms: number;
  error: string | null;
}

export async function testConnection(
  c: Connection,
  registry: Map<string, Connection>,
  home: string,
  timeoutMs = 15_000,
  /** The daemon's OS boundary, which a DuckDB engine starts inside. */
  boundary: OsBoundary = NO_OS_BOUNDARY,
): Promise<ConnectionTest> {
  const started = performance.now();
  const redact = makeRedactor(secretValues(c).map((v): [string, string] => ["connection", v]));
  let error: string | null = null;
  const scratch = await Deno.makeTempDir({ prefix: "tau_conn_test_" });
  try {
    await withTimeout(ping(c, { registry, home, scratch, timeoutMs, boundary }), timeoutMs);
  } catch (err) {
    error = redact(errorText(err));
  } finally {
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
  }
  return {
    name: c.name,
    type: c.type,
    hosts: hostsFor(c),
    ok: error === null,
    latency_ms: Math.round(performance.now() - started),
    error,
  };
}

async function ping(
  c: Connection,
  { registry, home, scratch, timeoutMs, boundary }: {
    registry: Map<string, Connection>;
    home: string;
    scratch: string;
    timeoutMs: number;
    boundary: OsBoundary;
  },
) {
  if (runsOnTrustedSide(c)) {
    const requests = runRequests({
      declared: [c.name],
      registry,
      home,
      scratchDir: scratch,
      limits: { ...DEFAULT_LIMITS, cpu_s: 60, timeout_ms: timeoutMs },
      boundary,
    });
    try {
      await requests.handle("duckdb.query", { connection: c.name, sql: "SELECT 1", params: [] });
    } finally {
      await requests.close();
    }
    return;
  }
  const resolved = await resolveConnections([c.name], registry, home);
  const connector = await connectNamed(c.name, resolved.forRun[c.name] as never);
  try {
    await connector.ping();
  } finally {
    await connector.close().catch(() => {});
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
