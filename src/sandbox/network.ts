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

/** Everything that reaches the daemon's port on this machine. */
export function daemonAddresses(port: number, host?: string): string[] {
  const hosts = ["127.0.0.0/8", "localhost", "0.0.0.0", "[::1]", "[::]"];
  if (host && !hosts.includes(host)) hosts.push(isIP(host) === 6 ? `[${host}]` : host);
  return hosts.map((h) => `${h}:${port}`);
}

/** Why an address may never be reached by a run (with the daemon's port), or null. */
export function forbiddenAddress(address: string, port: number, daemonPort: number): string | null {
  const ip = address.replace(/^\[|\]$/g, "").toLowerCase();
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    if (v4.startsWith("169.254.")) return "a link-local / cloud metadata address";
    if ((v4.startsWith("127.") || v4 === "0.0.0.0") && port === daemonPort) {
      return "the Tau daemon's own port";
    }
    return null;
  }
  if (isIP(ip) === 6) {
    if (/^fe[89ab]/.test(ip) || ip === "fd00:ec2::254") {
      return "a link-local / cloud metadata address";
    }
    if ((ip === "::1" || ip === "::") && port === daemonPort) return "the Tau daemon's own port";
  }
  return null;
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
  daemonPort: number,
  resolve: Resolve = systemResolve,
): Promise<ResolvedViolation | null> {
  const checks = grants.map(async (target) => {
    const match = /^(.*):(\d+)$/.exec(target);
    if (!match) return null;
    const host = match[1]!.replace(/^\[|\]$/g, "");
    const port = Number(match[2]);
    const addresses = isIP(host) ? [host] : await withTimeout(resolve(host)).catch(() => []);
    for (const address of addresses) {
      const reason = forbiddenAddress(address, port, daemonPort);
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
