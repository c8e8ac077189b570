/**
 * Network rules beyond the allow-list: every grant is an exact `host:port`; the daemon's own
 * port (on every loopback and wildcard address) and the cloud metadata / link-local ranges are
 * denied whatever a pipeline declares; and before a run starts, each granted *name* is
 * resolved on the trusted side so a name pointing at a denied address is refused up front.
 * Deno itself also checks the resolved address of every connection against the deny list.
 */
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";

/** Addresses no run may reach, whatever it declares (Deno syntax for `--deny-net`). */
export const ALWAYS_DENIED = [
  "169.254.0.0/16",
  "[fd00:ec2::254]",
  "metadata.google.internal",
  "metadata",
];

/** `host` → `host:443`: a grant without a port means HTTPS, never "every port". */
export function exactHostPort(entry: string): string {
  return /^(\[[^\]]+\]|[^:[\]]+):\d+$/.test(entry) ? entry : `${entry}:443`;
}

/**
 * Everything that reaches the daemon's port on this machine: every loopback and wildcard
 * spelling, plus the addresses it listens on (all interface addresses when bound to a wildcard).
 */
export function daemonAddresses(
  ports: readonly number[],
  listening: readonly string[] = [],
): string[] {
  const hosts = ["127.0.0.0/8", "localhost", "0.0.0.0", "[::1]", "[::]"];
  for (const address of listening) {
    const ip = canonicalIp(address);
    const host = isIP(ip) === 6 ? `[${ip}]` : ip;
    if (!hosts.includes(host) && !ip.startsWith("127.")) hosts.push(host);
  }
  return ports.flatMap((port) => hosts.map((h) => `${h}:${port}`));
}

/** The addresses a daemon bound to `host` answers on (every interface for a wildcard). */
export function listeningAddresses(host: string): string[] {
  if (host !== "0.0.0.0" && host !== "::" && host !== "[::]") return [host];
  return [...new Set(Deno.networkInterfaces().map((i) => i.address))];
}

/**
 * One spelling per address: brackets dropped, IPv6 compressed by the URL parser, and
 * IPv4-mapped IPv6 (`::ffff:7f00:1`) turned back into IPv4.
 */
export function canonicalIp(address: string): string {
  const bare = address.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(bare) !== 6) return bare;
  const ip = new URL(`http://[${bare}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(ip);
  if (!mapped) return ip;
  const [hi, lo] = [parseInt(mapped[1]!, 16), parseInt(mapped[2]!, 16)];
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
}

/** The ports a daemon listens on (its API's, its dashboard's) and the addresses it is bound to. */
export interface DaemonEndpoints {
  ports: readonly number[];
  addresses?: readonly string[];
}

/** Why an address may never be reached by a run (with one of the daemon's ports), or null. */
export function forbiddenAddress(
  address: string,
  port: number,
  daemon: DaemonEndpoints,
): string | null {
  const ip = canonicalIp(address);
  if (isIP(ip) === 4 && ip.startsWith("169.254.")) return "a link-local / cloud metadata address";
  if (isIP(ip) === 6 && (/^fe[89ab]/.test(ip) || ip === "fd00:ec2::254")) {
    return "a link-local / cloud metadata address";
  }
  if (!daemon.ports.includes(port)) return null;
  const local = ip.startsWith("127.") || ip === "0.0.0.0" || ip === "::1" || ip === "::";
  const listening = (daemon.addresses ?? []).some((a) => canonicalIp(a) === ip);
  return local || listening ? "the Tau daemon's own port" : null;
}

/**
 * Why a `host:port` a run was denied can never be granted (the daemon's port, the cloud
 * metadata service), or null when declaring it would grant it.
 */
export function neverAllowed(
  target: string,
  daemon: DaemonEndpoints,
): string | null {
  const match = /^(.*):(\d+)$/.exec(target);
  const host = (match?.[1] ?? target).replace(/^\[|\]$/g, "").toLowerCase();
  const port = match ? Number(match[2]) : 0;
  if (host === "metadata" || host === "metadata.google.internal") {
    return "the cloud metadata service";
  }
  const address = host === "localhost" ? "127.0.0.1" : host;
  return isIP(canonicalIp(address)) ? forbiddenAddress(address, port, daemon) : null;
}

export interface ResolvedViolation {
  target: string;
  address: string;
  reason: string;
}

type Resolve = (host: string) => Promise<string[]>;

const systemResolve: Resolve = async (host) =>
  (await lookup(host, { all: true })).map((a) => a.address);

const RESOLVE_TIMEOUT_MS = 2_000;

/**
 * Resolves every granted name (IP literals are checked as they are) and returns the first
 * that lands on a forbidden address. A name that does not resolve is not a violation: the
 * connection will simply fail.
 */
export async function checkGrantedHosts(
  grants: readonly string[],
  daemon: DaemonEndpoints,
  resolve: Resolve = systemResolve,
): Promise<ResolvedViolation | null> {
  const checks = grants.map(async (target) => {
    const match = /^(.*):(\d+)$/.exec(target);
    if (!match) return null;
    const host = match[1]!.replace(/^\[|\]$/g, "");
    const port = Number(match[2]);
    const addresses = isIP(host) ? [host] : await withTimeout(resolve(host)).catch(() => []);
    for (const address of addresses) {
      const reason = forbiddenAddress(address, port, daemon);
      if (reason) return { target, address, reason };
    }
    return null;
  });
  for (const result of await Promise.all(checks)) if (result) return result;
  return null;
}

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timeout")), RESOLVE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}
