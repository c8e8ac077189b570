/**
 * The npm packages a run may load: the approved drivers below, at the
 * versions deno.json pins and deno.lock verifies. They are cached once per machine (per lock
 * hash) into a folder that becomes the `npm` folder of every run's private DENO_DIR; runs use
 * `--cached-only`, so anything not in it — any other package — cannot be loaded at run time.
 */
import { join } from "node:path";
import { homedir } from "node:os";
import { exists } from "../core/fs.ts";
import { sha256Hex } from "../core/ids.ts";
import { TauError } from "../core/errors.ts";
import { runDenoProcess } from "./deno_process.ts";
import { runtime } from "../runtime/root.ts";

/**
 * Bare specifiers pipelines (through the SDK) may import, each with the any-typed stand-in in
 * sdk/_typecheck that the deploy-time type-check sees instead of its real declarations.
 */
export const APPROVED_DRIVERS: Readonly<Record<string, string>> = {
  "postgres": "postgres.ts",
  "mysql2/promise": "mysql2.ts",
  "@aws-sdk/client-s3": "aws_s3.ts",
  "csv-parse/stream": "csv_parse.ts",
  "csv-stringify/sync": "csv_stringify.ts",
  // Validates materialization configs; pure JavaScript with no I/O.
  "zod": "zod.ts",
};

let approved: Promise<Record<string, string>> | undefined;

/** The approved specifiers with their deno.json targets (read once per process). */
export function approvedImports(): Promise<Record<string, string>> {
  return approved ??= readApprovedImports();
}

async function readApprovedImports(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(join(runtime().root, "deno.json"))) as {
    imports: Record<string, string>;
  };
  const out: Record<string, string> = {};
  for (const name of Object.keys(APPROVED_DRIVERS)) {
    const target = config.imports[name];
    if (!target) {
      throw new TauError("internal", `deno.json does not map the approved driver ${name}`);
    }
    out[name] = target;
  }
  return out;
}

interface Lockfile {
  version: string;
  specifiers: Record<string, string>;
  npm: Record<string, { integrity?: string; dependencies?: string[] }>;
}

/**
 * Tau's deno.lock cut down to the approved drivers and the packages they depend on. Deno
 * caches every npm package a lockfile names, and a frozen lockfile is what a run resolves npm
 * specifiers against — with the full lock, any package Tau itself uses (hono, zod, …) would be
 * importable at run time.
 */
export async function approvedLock(): Promise<Lockfile> {
  const lock = JSON.parse(await Deno.readTextFile(join(runtime().root, "deno.lock"))) as Lockfile;
  const wanted = new Set(
    Object.values(await approvedImports()).map((t) => `npm:${npmPackageOf(t)}`),
  );
  const specifiers = Object.fromEntries(
    Object.entries(lock.specifiers).filter(([spec]) => wanted.has(spec)),
  );
  const npm: Lockfile["npm"] = {};
  const visit = (key: string) => {
    const entry = lock.npm[key];
    if (!entry || npm[key]) return;
    npm[key] = entry;
    for (const dep of entry.dependencies ?? []) visit(lockKeyOf(dep, lock.npm));
  };
  for (const [spec, version] of Object.entries(specifiers)) {
    visit(`${spec.slice(4, spec.lastIndexOf("@"))}@${version}`);
  }
  return { version: lock.version, specifiers, npm };
}

/** A lock dependency (`name`, or `name@version` when several exist) → its `npm` key. */
function lockKeyOf(dep: string, npm: Lockfile["npm"]): string {
  if (dep in npm) return dep;
  return Object.keys(npm).find((key) => key.startsWith(`${dep}@`)) ?? dep;
}

/** `name@version` of each approved package, as `deno info` reports npm modules. */
export async function approvedPackages(): Promise<string[]> {
  return Object.values(await approvedImports()).map((target) => npmPackageOf(target) ?? target);
}

/** `npm:@scope/pkg@1.2.3/sub` → `@scope/pkg@1.2.3`. */
export function npmPackageOf(specifier: string): string | null {
  const match = /^npm:\/?((?:@[^/@]+\/)?[^/@]+@[^/]+)/.exec(specifier);
  return match ? match[1] as string : null;
}

/** The cut-down lockfile runs resolve npm specifiers against (see {@link approvedLock}). */
export function sandboxLockFile(moduleCache: string): string {
  return join(moduleCache, "drivers.lock");
}

/** Where the approved packages live: shared by every TAU_HOME on this machine. */
export function sandboxCacheRoot(
  env: { get(name: string): string | undefined } = Deno.env,
): string {
  return env.get("TAU_SANDBOX_CACHE") ||
    join(env.get("XDG_CACHE_HOME") || join(homedir(), ".cache"), "tau", "sandbox");
}

/**
 * Returns a DENO_DIR holding exactly the approved packages, populating it on first use
 * (from the npm registry, verified against deno.lock). Concurrent callers race safely: each
 * builds in a private folder and the first rename wins.
 */
export async function ensureSandboxCache(root = sandboxCacheRoot()): Promise<string> {
  const lock = JSON.stringify(await approvedLock());
  const key = sha256Hex(lock + JSON.stringify(await approvedImports())).slice(0, 16);
  const dir = join(root, key);
  if (await exists(join(dir, ".ready"))) return dir;
  await Deno.mkdir(root, { recursive: true });
  const building = `${dir}.${crypto.randomUUID()}`;
  const drivers = join(building, "drivers.ts");
  const driversMap = join(building, "drivers_map.json");
  const driversLock = sandboxLockFile(building);
  await Deno.mkdir(building, { recursive: true });
  await Deno.writeTextFile(
    drivers,
    Object.keys(APPROVED_DRIVERS).map((name) => `import "${name}";`).join("\n") + "\n",
  );
  await Deno.writeTextFile(driversMap, JSON.stringify({ imports: await approvedImports() }));
  await Deno.writeTextFile(driversLock, lock);
  const result = await runDenoProcess({
    args: [
      "cache",
      "--quiet",
      "--no-config",
      `--import-map=${driversMap}`,
      `--lock=${driversLock}`,
      "--frozen",
      drivers,
    ],
    // A trusted download: it keeps the daemon's environment (proxies, CA bundles).
    env: { ...Deno.env.toObject(), DENO_DIR: building, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
    timeoutMs: 300_000,
  });
  if (result.code !== 0) {
    await Deno.remove(building, { recursive: true }).catch(() => {});
    throw new TauError(
      "internal",
      `Cannot cache the approved npm drivers: ${result.stderr.slice(0, 500)}`,
      {
        hint: "the first start needs the npm registry; run ./install.sh",
      },
    );
  }
  await Deno.writeTextFile(join(building, ".ready"), "");
  try {
    await Deno.rename(building, dir);
  } catch {
    await Deno.remove(building, { recursive: true }).catch(() => {}); // another process won
  }
  return dir;
}
