/**
 * Each run gets its own DENO_DIR, so nothing one run leaves there (localStorage, caches, code
 * cache) reaches the next. A fresh empty one makes every run re-transpile the SDK and its
 * pipeline (~7-10 ms); a read-only shared one costs ~150 ms per start (Deno's cache databases
 * want to be writable). So each deployed version gets a warm *template*, made once by loading
 * the module with no permissions at all, and each run starts from a private copy of the
 * template's compiler caches only — never its origin storage (`location_data`), the one part
 * that pipeline code itself can write.
 */
import { join } from "node:path";
import { exists } from "../core/fs.ts";
import { runDenoProcess } from "./deno_process.ts";
import { sandboxLockFile } from "./npm_cache.ts";
import {
  baseChildEnv,
  RUN_VIEW,
  type SandboxOptions,
  viewMounts,
  zeroPermissionArgs,
} from "./permissions.ts";
import { bubblewrapArgs } from "./os_boundary.ts";
import type { InitMessage } from "../../sdk/_channel.ts";

/** The OS boundary runs get, when they get one: caches must be warmed in the same view. */
export type ViewBoundary = SandboxOptions["boundary"];

/** Cache entries Deno's runtime writes from source alone; everything else stays behind. */
// The SQLite caches are copied with their write-ahead log but never their "-shm" wal-index: that
// is memory shared between the processes of one database, rebuilt from the log on open. A copy
// of it is stale state another process may map, and runs died with SIGBUS under load with it.
const COPIED = /^(gen|v8_code_cache_v2|dep_analysis_cache_v2|node_analysis_cache_v2)(-wal)?$/;

const warming = new Map<string, Promise<string | null>>();

/**
 * Returns the version's template DENO_DIR, creating it on first use; null if warming failed
 * (the run then starts from an empty DENO_DIR, which is only slower).
 */
export function versionTemplate(
  versionDir: string,
  entry: string,
  importMap: string,
  moduleCache: string,
  boundary?: ViewBoundary,
): Promise<string | null> {
  // Compiled code is cached by module path: runs in the view need a template made in it.
  const template = join(versionDir, boundary ? "deno_template_view" : "deno_template");
  let pending = warming.get(template);
  if (!pending) {
    pending = warm(template, entry, importMap, moduleCache, boundary)
      .finally(() => warming.delete(template));
    warming.set(template, pending);
  }
  return pending;
}

async function warm(
  template: string,
  entry: string,
  importMap: string,
  moduleCache: string,
  boundary?: ViewBoundary,
): Promise<string | null> {
  if (await exists(join(template, ".ready"))) return template;
  const building = `${template}.${crypto.randomUUID()}`;
  const scratch = join(building, "scratch");
  const denoDir = join(building, "deno");
  const lockFile = sandboxLockFile(moduleCache);
  await Deno.mkdir(scratch, { recursive: true });
  await linkModuleCache(moduleCache, denoDir, { mountPoint: boundary !== undefined });
  const init: InitMessage = {
    nonce: crypto.randomUUID(),
    mode: "warm",
    run_id: "warm",
    pipeline: "",
    attempt: 0,
    params: {},
    last_successful_run: null,
    secrets: [],
  };
  const inView = boundary
    ? {
      args: zeroPermissionArgs(RUN_VIEW.importMap, RUN_VIEW.lockFile, `${RUN_VIEW.code}/entry.ts`),
      env: baseChildEnv(RUN_VIEW.scratch, RUN_VIEW.denoDir),
      wrapper: {
        command: [
          boundary.os.bwrap!,
          ...bubblewrapArgs(boundary.os, {
            ...viewMounts({ scratchDir: scratch, denoDir, lockFile, entry, boundary }),
            network: false,
            cwd: RUN_VIEW.scratch,
          }),
          "--",
        ],
        deno: RUN_VIEW.deno,
      },
    }
    : { args: zeroPermissionArgs(importMap, lockFile, entry), env: baseChildEnv(scratch, denoDir) };
  const result = await runDenoProcess({
    ...inView,
    cwd: scratch,
    stdin: JSON.stringify(init) + "\n",
    timeoutMs: 10_000,
    maxOutputBytes: 64 * 1024,
  });
  try {
    if (result.code !== 0) return null;
    await Deno.mkdir(template, { recursive: true });
    await copyCaches(denoDir, template);
    await Deno.writeTextFile(join(template, ".ready"), "");
    return template;
  } catch {
    return null;
  } finally {
    await Deno.remove(building, { recursive: true }).catch(() => {});
  }
}

/**
 * Gives a child's DENO_DIR the approved npm packages: a link to the shared, read-only-in-use
 * package folder (runs are `--cached-only` and have no write permission there) — or, for a
 * child inside the OS boundary, an empty folder the boundary mounts that package folder on.
 */
export async function linkModuleCache(
  moduleCache: string,
  denoDir: string,
  options: { mountPoint?: boolean } = {},
): Promise<void> {
  await Deno.mkdir(denoDir, { recursive: true });
  if (options.mountPoint) await Deno.mkdir(join(denoDir, "npm"));
  else if (await exists(join(moduleCache, "npm"))) {
    await Deno.symlink(join(moduleCache, "npm"), join(denoDir, "npm"));
  }
}

/** Fills a run's empty DENO_DIR with a private copy of the template's compiler caches. */
export async function copyCaches(template: string, target: string): Promise<void> {
  await Deno.mkdir(target, { recursive: true });
  for await (const entry of Deno.readDir(template)) {
    if (!COPIED.test(entry.name)) continue;
    await copyTree(join(template, entry.name), join(target, entry.name), entry.isDirectory);
  }
}

async function copyTree(from: string, to: string, isDirectory: boolean): Promise<void> {
  if (!isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const entry of Deno.readDir(from)) {
    if (entry.isSymlink) continue;
    await copyTree(join(from, entry.name), join(to, entry.name), entry.isDirectory);
  }
}
