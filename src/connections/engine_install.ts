/**
 * What every DuckDB engine process starts from, prepared once per machine: the engine's
 * import map and a lockfile cut down to @duckdb/node-api and its dependencies (so an engine can
 * load nothing else), the files of its module graph and of those npm packages (its only
 * read-only mounts under bubblewrap), and a warm template of the compiler caches that each
 * engine's private DENO_DIR is filled from (src/sandbox/deno_dir.ts), so no engine writes
 * where another reads.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exists } from "../core/fs.ts";
import { copyCaches, linkModuleCache } from "../sandbox/deno_dir.ts";
import { runDenoProcess } from "../sandbox/deno_process.ts";
import { baseChildEnv, lockedDownFlags } from "../sandbox/permissions.ts";
import { sandboxCacheRoot } from "../sandbox/npm_cache.ts";
import { sha256Hex } from "../core/ids.ts";
import { runtime } from "../runtime/root.ts";

/** The engine's entry, in the folder runs read their files from (src/runtime/root.ts). */
const entry = () => join(runtime().root, "src/connections/engine_main.ts");
const DRIVER = "@duckdb/node-api";

export interface EngineInstall {
  entry: string;
  importMap: string;
  lockFile: string;
  /** The DENO_DIR whose `npm` folder holds the engine's packages (the daemon's own). */
  moduleCache: string;
  /** Compiler caches copied into each engine's DENO_DIR; null if warming failed (slower). */
  template: string | null;
  /** What an engine reads: its source files, lockfile, import map, npm packages, libraries. */
  readOnly: string[];
}

let installing: Promise<EngineInstall> | undefined;

/**
 * The engine installation of this process: read from the machine's cache, or prepared there on
 * first use (~0.3 s of CPU; every later daemon start on the machine skips it).
 */
export function engineInstall(): Promise<EngineInstall> {
  installing ??= install().catch((err) => {
    installing = undefined;
    throw err;
  });
  return installing;
}

/** What a cached installation records: the install, and a hash of each engine source file. */
interface CachedInstall {
  install: EngineInstall;
  sources: Record<string, string>;
}

/**
 * One folder per input that decides the installation (Deno, the driver's lock, this checkout,
 * the module cache), beside the sandbox's approved packages. Its `install.json` is trusted only
 * while the engine's source files still hash as recorded; an edited engine is installed again.
 * Concurrent starts race safely: each builds in a private folder and renames it into place.
 */
async function install(): Promise<EngineInstall> {
  const { imports } = JSON.parse(await Deno.readTextFile(join(runtime().root, "deno.json"))) as {
    imports: Record<string, string>;
  };
  const specifier = imports[DRIVER];
  if (!specifier) throw new Error(`deno.json does not map ${DRIVER}`);
  const lock = await driverLock(specifier);
  const key = sha256Hex(JSON.stringify([
    Deno.version.deno,
    specifier,
    lock,
    runtime().root,
    runtime().deno,
    ["DENO_DIR", "XDG_CACHE_HOME", "HOME"].map((name) => Deno.env.get(name) ?? null),
  ])).slice(0, 16);
  const dir = join(sandboxCacheRoot(), "engine", key);
  const cached = await readCached(dir);
  if (cached) return cached;
  const building = `${dir}.${crypto.randomUUID()}`;
  try {
    const built = await build(building, dir, specifier, lock);
    await Deno.writeTextFile(join(building, "install.json"), JSON.stringify(built));
    // Another start may have won meanwhile: keep its folder. A stale one (its engine sources
    // changed) moves aside before ours moves in.
    if (!await readCached(dir)) {
      if (await exists(dir)) {
        await Deno.rename(dir, `${dir}.stale.${crypto.randomUUID()}`).catch(() => {});
      }
      await Deno.rename(building, dir).catch(() => {});
    }
  } finally {
    await Deno.remove(building, { recursive: true }).catch(() => {});
  }
  for await (const entry of Deno.readDir(join(dir, ".."))) {
    if (entry.name.includes(".stale.")) {
      await Deno.remove(join(dir, "..", entry.name), { recursive: true }).catch(() => {});
    }
  }
  const ready = await readCached(dir);
  if (!ready) throw new Error(`The DuckDB engine installation at ${dir} did not verify`);
  return ready;
}

/** The installation in `dir`, if it is whole and its engine sources are unchanged. */
async function readCached(dir: string): Promise<EngineInstall | null> {
  try {
    const cached = JSON.parse(await Deno.readTextFile(join(dir, "install.json"))) as CachedInstall;
    for (const [file, hash] of Object.entries(cached.sources)) {
      if (sha256Hex(await Deno.readTextFile(file)) !== hash) return null;
    }
    return cached.install;
  } catch {
    return null;
  }
}

/** Prepares an installation in `building` whose paths name `dir`, where it will be renamed. */
async function build(
  building: string,
  dir: string,
  specifier: string,
  lock: unknown,
): Promise<CachedInstall> {
  await Deno.mkdir(building, { recursive: true });
  await Deno.writeTextFile(
    join(building, "import_map.json"),
    JSON.stringify({ imports: { [DRIVER]: specifier } }),
  );
  await Deno.writeTextFile(join(building, "engine.lock"), JSON.stringify(lock));
  const local = {
    importMap: join(building, "import_map.json"),
    lockFile: join(building, "engine.lock"),
  };
  const moduleCache = (await denoJson(["info", "--json"], {})).denoDir as string;
  const graph = await denoJson([
    "info",
    "--json",
    "--no-config",
    `--lock=${local.lockFile}`,
    "--frozen",
    `--import-map=${local.importMap}`,
    entry(),
  ], { DENO_DIR: moduleCache });
  const sources = (graph.modules as { specifier: string }[])
    .filter((m) => m.specifier.startsWith("file:"))
    .map((m) => fileURLToPath(m.specifier));
  const packages = await packageDirs(moduleCache, Object.keys(graph.npmPackages as object));
  const importMap = join(dir, "import_map.json");
  const lockFile = join(dir, "engine.lock");
  const warmed = await warmTemplate({ entry: entry(), ...local, moduleCache }, building);
  return {
    install: {
      entry: entry(),
      importMap,
      lockFile,
      moduleCache,
      template: warmed ? join(dir, "template") : null,
      readOnly: [importMap, lockFile, ...sources, ...packages, ...await libraryDirs(packages)],
    },
    sources: Object.fromEntries(
      await Promise.all(
        sources.map(async (file) => [file, sha256Hex(await Deno.readTextFile(file))] as const),
      ),
    ),
  };
}

/** deno.lock cut down to one npm package and the packages it depends on. */
async function driverLock(specifier: string) {
  const lock = JSON.parse(await Deno.readTextFile(join(runtime().root, "deno.lock"))) as {
    version: string;
    specifiers: Record<string, string>;
    npm: Record<string, { dependencies?: string[]; optionalDependencies?: string[] }>;
  };
  const version = lock.specifiers[specifier];
  if (!version) throw new Error(`deno.lock does not lock ${specifier}`);
  const npm: typeof lock.npm = {};
  const visit = (name: string) => {
    const key = name in lock.npm
      ? name
      : Object.keys(lock.npm).find((k) => k.startsWith(`${name}@`));
    if (!key || npm[key]) return;
    npm[key] = lock.npm[key]!;
    for (const dep of [...npm[key].dependencies ?? [], ...npm[key].optionalDependencies ?? []]) {
      visit(dep);
    }
  };
  visit(`${DRIVER}@${version}`);
  return { version: lock.version, specifiers: { [specifier]: version }, npm };
}

/** The cached folders of `name@version` packages (platform packages not installed are absent). */
async function packageDirs(moduleCache: string, packages: string[]): Promise<string[]> {
  const registries: string[] = [];
  for await (const entry of Deno.readDir(join(moduleCache, "npm"))) {
    if (entry.isDirectory) registries.push(join(moduleCache, "npm", entry.name));
  }
  const dirs: string[] = [];
  for (const pkg of packages) {
    const at = pkg.lastIndexOf("@");
    for (const registry of registries) {
      const dir = join(registry, pkg.slice(0, at), pkg.slice(at + 1));
      if (await exists(dir)) dirs.push(dir);
    }
  }
  return dirs;
}

/** Folders of the shared libraries the packages' native addons load (libstdc++ and friends). */
async function libraryDirs(packages: string[]): Promise<string[]> {
  const dirs = new Set<string>();
  for (const pkg of packages) {
    for await (const entry of Deno.readDir(pkg)) {
      if (!entry.name.endsWith(".node")) continue;
      const ldd = await new Deno.Command("ldd", { args: [join(pkg, entry.name)], stdout: "piped" })
        .output().catch(() => null);
      const text = ldd?.success ? new TextDecoder().decode(ldd.stdout) : "";
      for (const [path] of text.matchAll(/\/[^\s)]+/g)) {
        const real = await Deno.realPath(path).catch(() => null);
        if (real && !packages.some((p) => real.startsWith(p + "/"))) dirs.add(dirname(real));
      }
    }
  }
  return [...dirs];
}

/** Runs the engine once (`--warm`) and keeps the compiler caches it wrote in `dir/template`. */
async function warmTemplate(
  install: Pick<EngineInstall, "entry" | "importMap" | "lockFile" | "moduleCache">,
  dir: string,
): Promise<boolean> {
  const warm = join(dir, "warm");
  await linkModuleCache(install.moduleCache, join(warm, "deno"));
  const result = await runDenoProcess({
    args: engineArgs(install, 256, ["--warm"]),
    env: baseChildEnv(warm, join(warm, "deno")),
    cwd: warm,
    timeoutMs: 30_000,
  });
  try {
    if (result.code !== 0) return false;
    await copyCaches(join(warm, "deno"), join(dir, "template"));
    return true;
  } finally {
    await Deno.remove(warm, { recursive: true }).catch(() => {});
  }
}

/** `deno run …` arguments of an engine: the locked-down flags, and FFI for DuckDB's addon only. */
export function engineArgs(
  install: Pick<EngineInstall, "entry" | "importMap" | "lockFile">,
  heapMb: number,
  extra: string[] = [],
): string[] {
  return [
    "run",
    ...lockedDownFlags(install.lockFile),
    `--import-map=${install.importMap}`,
    "--allow-ffi",
    `--v8-flags=--max-old-space-size=${heapMb}`,
    install.entry,
    ...extra,
  ];
}

async function denoJson(args: string[], env: Record<string, string>) {
  const result = await runDenoProcess({
    args,
    env: { ...Deno.env.toObject(), ...env, NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    timeoutMs: 30_000,
  });
  if (result.code !== 0) {
    throw new Error(`Cannot prepare the DuckDB engine: deno ${args[0]}: ${result.stderr.trim()}`);
  }
  return JSON.parse(result.stdout) as Record<string, unknown>;
}
