/**
 * The npm packages a run may load: the approved drivers in sdk/connectors/_drivers.ts, at the
 * versions deno.json pins and deno.lock verifies. They are cached once per machine (per lock
 * hash) into a folder that becomes the `npm` folder of every run's private DENO_DIR; runs use
 * `--cached-only`, so anything not in it — any other package — cannot be loaded at run time.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { homedir } from "node:os";
import { exists } from "../core/fs.ts";
import { sha256Hex } from "../core/ids.ts";
import { TauError } from "../core/errors.ts";
import { runDenoProcess } from "./deno_process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DENO_JSON = join(ROOT, "deno.json");
const DRIVERS = join(ROOT, "sdk", "connectors", "_drivers.ts");

/** Bare specifiers pipelines (through the SDK) may import. */
export const APPROVED_SPECIFIERS = [
  "postgres",
  "mysql2/promise",
  "@aws-sdk/client-s3",
  "csv-parse/stream",
  "csv-stringify/sync",
] as const;

export async function approvedImports(): Promise<Record<string, string>> {
  const config = JSON.parse(await Deno.readTextFile(DENO_JSON)) as {
    imports: Record<string, string>;
  };
  const out: Record<string, string> = {};
  for (const name of APPROVED_SPECIFIERS) {
    const target = config.imports[name];
    if (!target) {
      throw new TauError("internal", `deno.json does not map the approved driver ${name}`);
    }
    out[name] = target;
  }
  return out;
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
  const lock = await Deno.readTextFile(join(ROOT, "deno.lock"));
  const key = (await sha256Hex(lock + JSON.stringify(await approvedImports()))).slice(0, 16);
  const dir = join(root, key);
  if (await exists(join(dir, ".ready"))) return dir;
  await Deno.mkdir(root, { recursive: true });
  const building = `${dir}.${crypto.randomUUID()}`;
  const result = await runDenoProcess({
    args: ["cache", "--quiet", `--config=${DENO_JSON}`, "--frozen", DRIVERS],
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
