/**
 * Copies the files runs need out of a compiled `taud` onto disk, where a `deno run` child can
 * read them. One folder per content hash (`<runtimeHome>/<hash>/`), so versions coexist; each is
 * built in a private temporary folder, its manifest written last, and renamed into place, so a
 * half-written extraction is never used. Inside a compiled binary the embedded files are read
 * with the ordinary fs APIs at their original paths, so the same code runs from a checkout.
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { errorText, TauError } from "../core/errors.ts";
import { exists } from "../core/fs.ts";
import { sha256Hex } from "../core/ids.ts";
import { log } from "../core/log.ts";

const MANIFEST = "manifest.json";
/** Folders being written: `.extracting-<hash>-<uuid>`, renamed to `<hash>` when complete. */
const TEMP_PREFIX = ".extracting-";
/** Damaged extractions moved out of the way: `.replaced-<hash>-<uuid>`, removed at once. */
const ASIDE_PREFIX = ".replaced-";
/** Held (flock) while a folder is swapped in, so no process moves aside one another just made. */
const LOCK = ".lock";
/** A temporary folder untouched this long belongs to a crashed extraction (one takes < 1 s). */
const ABANDONED_MS = 10 * 60_000;

/** Paths relative to `sourceRoot` of what runs need: deno.json, deno.lock, every file under sdk/ and src/ except *_test.ts(x), sorted. */
export async function runtimeFiles(sourceRoot: string): Promise<string[]> {
  const files = ["deno.json", "deno.lock"];
  try {
    for (const file of files) {
      if (!(await Deno.stat(join(sourceRoot, file))).isFile) throw new Error("not a file");
    }
    for (const top of ["sdk", "src"]) await walk(sourceRoot, top, files);
  } catch (err) {
    throw new TauError(
      "internal",
      `Cannot list the runtime files in ${sourceRoot}: ${errorText(err)}`,
      {
        hint:
          "taud's own files are incomplete: reinstall taud (or run it from a complete checkout)",
      },
    );
  }
  return files.sort();
}

async function walk(root: string, relative: string, out: string[]): Promise<void> {
  for await (const entry of Deno.readDir(join(root, relative))) {
    const path = `${relative}/${entry.name}`;
    if (entry.isDirectory) await walk(root, path, out);
    else if (!/_test\.tsx?$/.test(entry.name)) out.push(path);
  }
}

export interface Extraction {
  /** The folder holding the copies: `<runtimeHome>/<hash>` (hash: first 16 hex of the bundle's SHA-256). */
  dir: string;
  hash: string;
  /** True when an intact earlier extraction was used as it was. */
  reused: boolean;
}

/** What `manifest.json` holds: the bundle's hash and each file's SHA-256 (hex). */
interface Manifest {
  hash: string;
  files: Record<string, string>;
}

/**
 * Copies `files` from `sourceRoot` into `<runtimeHome>/<hash>/`, addressed by the content hash of
 * the whole bundle (every path and its bytes), so versions coexist. Written into a private
 * temporary folder beside it and renamed into place with its manifest written last: a
 * half-written extraction is never used. An existing folder is reused only if its manifest
 * lists exactly these files with matching hashes (checked by re-hashing); otherwise it is
 * moved aside and replaced. Concurrent callers (several daemons starting at once) all end with
 * the same intact folder.
 */
export async function extractRuntime(
  sourceRoot: string,
  files: string[],
  runtimeHome: string,
): Promise<Extraction> {
  const paths = [...new Set(files)].sort();
  paths.forEach(checkPath);
  const hashes: Record<string, string> = {};
  for (const path of paths) {
    try {
      hashes[path] = await hashFile(join(sourceRoot, path));
    } catch (err) {
      throw new TauError(
        "internal",
        `Cannot read the runtime file ${join(sourceRoot, path)}: ${errorText(err)}`,
        {
          hint:
            "taud's own files are incomplete: reinstall taud (or run it from a complete checkout)",
        },
      );
    }
  }
  // A hash of (path, file hash) pairs: it covers every path and every byte, unambiguously.
  const hash = sha256Hex(JSON.stringify(paths.map((path) => [path, hashes[path]]))).slice(0, 16);
  const manifest: Manifest = { hash, files: hashes };
  const dir = join(runtimeHome, hash);
  await writable(runtimeHome, () => makeHome(runtimeHome));
  const reused = await intact(dir, manifest) || await extract(sourceRoot, runtimeHome, manifest);
  await cleanUp(runtimeHome);
  return { dir, hash, reused };
}

/** A runtime file's path must stay inside the folder and not be taken for the manifest. */
function checkPath(path: string): void {
  const parts = path.split("/");
  if (
    path === MANIFEST || path.startsWith("/") || path.includes("\\") ||
    parts.some((part) => part === "" || part === "." || part === "..")
  ) {
    throw new TauError(
      "internal",
      `Cannot extract ${JSON.stringify(path)}: not a plain relative path`,
      {
        hint: "Pass the paths runtimeFiles() returns (relative, '/'-separated, no '.' or '..')",
      },
    );
  }
}

/** Runs `step`, turning a failure to write under `home` into an error naming it. */
async function writable<T>(home: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof TauError) throw err;
    throw new TauError("internal", `Cannot write the runtime files to ${home}: ${errorText(err)}`, {
      hint: `Make ${home} writable (with free space) for the user taud runs as, ` +
        "or set TAU_HOME to a folder it can write",
    });
  }
}

/** Creates the runtime home private to its user (an existing one keeps its mode). */
async function makeHome(home: string): Promise<void> {
  if (await exists(home)) return;
  await Deno.mkdir(home, { recursive: true, mode: 0o700 });
  await Deno.chmod(home, 0o700);
}

/** Writes the bundle into a temporary folder and swaps it in; true if another's was used. */
async function extract(sourceRoot: string, home: string, manifest: Manifest): Promise<boolean> {
  const temp = join(home, `${TEMP_PREFIX}${manifest.hash}-${crypto.randomUUID()}`);
  try {
    await writable(home, () => writeTree(sourceRoot, temp, manifest));
    return await writable(home, () => swapIn(home, temp, manifest));
  } finally {
    await remove(temp);
  }
}

/** Copies every file into `temp`, checking each against its hash, then the manifest, last. */
async function writeTree(sourceRoot: string, temp: string, manifest: Manifest): Promise<void> {
  await Deno.mkdir(temp, { mode: 0o700 });
  const dirs = new Set<string>();
  for (const [path, expected] of Object.entries(manifest.files)) {
    for (let d = dirname(path); d !== "." && !dirs.has(d); d = dirname(d)) dirs.add(d);
    await Deno.mkdir(join(temp, dirname(path)), { recursive: true, mode: 0o755 });
    const copied = await copyFile(join(sourceRoot, path), join(temp, path));
    if (copied !== expected) {
      throw new TauError(
        "internal",
        `The runtime file ${join(sourceRoot, path)} changed while being extracted`,
        {
          hint: "Start taud again once its files are no longer being replaced",
        },
      );
    }
  }
  for (const d of dirs) await Deno.chmod(join(temp, d), 0o755);
  const manifestFile = join(temp, MANIFEST);
  await Deno.writeTextFile(manifestFile, JSON.stringify(manifest, null, 2) + "\n", { mode: 0o644 });
  await Deno.chmod(manifestFile, 0o644);
  await Deno.chmod(temp, 0o755);
}

/**
 * Renames `temp` to `<home>/<hash>` under the home's lock. An intact folder already there (a
 * concurrent start won) is kept and `temp` dropped; a damaged one is moved aside first. Without
 * the lock, a process that found the folder damaged could move aside the intact one another
 * process had just renamed in, leaving a moment with no folder while a run reads it.
 */
async function swapIn(home: string, temp: string, manifest: Manifest): Promise<boolean> {
  const dir = join(home, manifest.hash);
  const lock = await Deno.open(join(home, LOCK), { write: true, create: true, mode: 0o600 });
  try {
    await lock.lock(true);
    if (await intact(dir, manifest)) return true;
    try {
      await Deno.rename(dir, join(home, `${ASIDE_PREFIX}${manifest.hash}-${crypto.randomUUID()}`));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    try {
      await Deno.rename(temp, dir);
      return false;
    } catch (err) {
      // The destination appeared regardless (a process not taking the lock): theirs, if intact.
      if (await intact(dir, manifest)) return true;
      throw err;
    }
  } finally {
    lock.close();
  }
}

/** True when `dir` holds a manifest listing exactly these files, and each still hashes so. */
async function intact(dir: string, expected: Manifest): Promise<boolean> {
  try {
    const found = JSON.parse(await Deno.readTextFile(join(dir, MANIFEST))) as Partial<Manifest>;
    const files = found.files ?? {};
    const paths = Object.keys(expected.files);
    if (found.hash !== expected.hash || Object.keys(files).length !== paths.length) return false;
    for (const path of paths) {
      if (files[path] !== expected.files[path]) return false;
      if (await hashFile(join(dir, path)) !== expected.files[path]) return false;
    }
    return true;
  } catch {
    return false; // missing, unreadable or malformed: not intact, so written again
  }
}

/** Removes folders moved aside, and temporary ones abandoned by a crashed extraction. */
async function cleanUp(home: string): Promise<void> {
  const now = Date.now();
  try {
    for await (const entry of Deno.readDir(home)) {
      const path = join(home, entry.name);
      if (entry.name.startsWith(ASIDE_PREFIX)) await remove(path);
      else if (entry.name.startsWith(TEMP_PREFIX)) {
        const { mtime } = await Deno.lstat(path).catch(() => ({ mtime: null }));
        if (mtime && now - mtime.getTime() > ABANDONED_MS) await remove(path);
      }
    }
  } catch (err) {
    log("runtime_cleanup_failed", { path: home, error: errorText(err) });
  }
}

/** Removes a folder; one already gone (a concurrent cleanup) is fine, other failures are logged. */
async function remove(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      log("runtime_cleanup_failed", { path, error: errorText(err) });
    }
  }
}

/** Copies a file (0o644) and returns the SHA-256 of the bytes written. */
async function copyFile(from: string, to: string): Promise<string> {
  const hasher = createHash("sha256");
  const source = await Deno.open(from);
  let target: Deno.FsFile;
  try {
    target = await Deno.open(to, { write: true, createNew: true, mode: 0o644 });
  } catch (err) {
    source.close();
    throw err;
  }
  await source.readable
    .pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          hasher.update(chunk);
          out.enqueue(chunk);
        },
      }),
    )
    .pipeTo(target.writable);
  await Deno.chmod(to, 0o644);
  return hasher.digest("hex");
}

/** The SHA-256 (hex) of a file's bytes, read as a stream. */
async function hashFile(path: string): Promise<string> {
  const hasher = createHash("sha256");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hasher.update(chunk);
  return hasher.digest("hex");
}
