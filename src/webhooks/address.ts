/**
 * SSRF guard: which addresses a webhook may reach. The daemon resolves the URL's host when it
 * sends (and when a webhook is added) and refuses loopback, private, shared, link-local
 * (cloud metadata lives at 169.254.169.254), unspecified, multicast and reserved addresses,
 * IPv4-mapped and NAT64 forms included, unless the webhook sets `allow_private`.
 */
import { isIP } from "node:net";
import { TauError } from "../core/errors.ts";

/** IPv4 ranges refused: [first octets as a number, prefix length, why]. */
const V4_BLOCKED: [string, number, string][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["10.0.0.0", 8, "private"],
  ["100.64.0.0", 10, "shared (carrier-grade NAT)"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local (cloud metadata)"],
  ["172.16.0.0", 12, "private"],
  ["192.0.0.0", 24, "reserved"],
  ["192.168.0.0", 16, "private"],
  ["198.18.0.0", 15, "benchmarking"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"],
];

function v4Number(ip: string): number {
  return ip.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

function v4Reason(ip: string): string | null {
  const n = v4Number(ip);
  for (const [base, bits, why] of V4_BLOCKED) {
    const size = 2 ** (32 - bits);
    const start = v4Number(base);
    if (n >= start && n < start + size) return why;
  }
  return null;
}

/** The 8 groups of an IPv6 address (with an embedded IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let text = ip.toLowerCase().replace(/%.*$/, "");
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4Number(v4[1]!);
    text = text.slice(0, -v4[1]!.length) +
      `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.split("::");
  const parse = (s: string | undefined) => s ? s.split(":").map((g) => parseInt(g, 16)) : [];
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill(0), ...t];
}

function v6Reason(ip: string): string | null {
  const g = v6Groups(ip);
  const first = g[0] ?? 0;
  if (g.every((x) => x === 0)) return "unspecified";
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return "loopback";
  const embedded = () => `${g[6]! >> 8}.${g[6]! & 255}.${g[7]! >> 8}.${g[7]! & 255}`;
  // ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), 64:ff9b::a.b.c.d (NAT64).
  const mapped = g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0);
  const nat64 = first === 0x64 && g[1] === 0xff9b;
  if (mapped || nat64) return v4Reason(embedded()) ?? null;
  if ((first & 0xfe00) === 0xfc00) return "private (unique local)";
  if ((first & 0xffc0) === 0xfe80) return "link-local";
  if ((first & 0xffc0) === 0xfec0) return "site-local";
  if ((first & 0xff00) === 0xff00) return "multicast";
  return null;
}

/** Why a literal IP address is refused (loopback, private…), or null when it is public. */
export function blockedReason(ip: string): string | null {
  const family = isIP(ip.replace(/^\[|\]$/g, ""));
  if (family === 4) return v4Reason(ip);
  if (family === 6) return v6Reason(ip.replace(/^\[|\]$/g, ""));
  return "not an IP address";
}

/** The addresses `host` stands for: itself when it is an IP literal, else its A and AAAA. */
export async function resolveHost(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, "");
  if (isIP(bare)) return [bare];
  const found: string[] = [];
  for (const type of ["A", "AAAA"] as const) {
    try {
      found.push(...await Deno.resolveDns(bare, type));
    } catch { /* no record of this type */ }
  }
  return found;
}

/**
 * Checks a webhook URL's host: every address it resolves to must be public, unless
 * `allowPrivate`. Throws `invalid_params` naming the address and why.
 */
export async function vetUrl(url: string, allowPrivate: boolean): Promise<string[]> {
  const { hostname } = new URL(url);
  const addresses = await resolveHost(hostname);
  if (addresses.length === 0) {
    throw new TauError("invalid_params", `The webhook host ${hostname} does not resolve`, {
      hint: "check the URL's host name (the daemon resolves it with its own DNS)",
    });
  }
  if (allowPrivate) return addresses;
  for (const address of addresses) {
    const why = blockedReason(address);
    if (why) {
      throw new TauError(
        "invalid_params",
        `The webhook URL ${url} resolves to ${address}, a ${why} address`,
        {
          hint: "webhooks reach public addresses only; for a receiver on your own network " +
            "set allow_private = true (tau webhooks add … --allow-private)",
          details: { address, reason: why },
        },
      );
    }
  }
  return addresses;
}
