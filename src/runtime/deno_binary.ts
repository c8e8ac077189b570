/**
 * Which `deno` starts pipeline runs. Each run is a `deno run` child with generated permissions,
 * so a compiled `taud` (`deno compile`: `Deno.execPath()` is taud itself) needs a real deno of the
 * version Tau was built with; this finds it, and says exactly what to do when there is none.
 */
import { dirname, isAbsolute, join } from "node:path";
import { errorText, TauError } from "../core/errors.ts";

export interface DenoChoice {
  path: string;
  /** e.g. "2.9.6" */
  version: string;
  /** Where it was found: this process itself (not compiled), [sandbox] deno, beside the binary, or PATH. */
  source: "self" | "config" | "beside" | "path";
}

export interface FindDenoOptions {
  /** Deno.build.standalone */
  standalone: boolean;
  /** `[sandbox] deno` from tau.toml, if set */
  configured?: string | null;
  /** Deno.execPath() */
  execPath: string;
  /** The PATH variable */
  pathEnv: string;
  /** The Deno version Tau was built with (Deno.version.deno) */
  expectedVersion: string;
}

/** A candidate looked at and turned down, with why (in the error's `details.refused`). */
export interface RefusedDeno {
  path: string;
  source: DenoChoice["source"];
  reason: string;
}

/** How long a candidate's `--version` may take. */
const PROBE_TIMEOUT_MS = 5_000;
/** `deno --version` prints three short lines; more than this is not deno. */
const MAX_VERSION_BYTES = 4096;

/**
 * The version in the first line of `deno --version`, `deno X.Y.Z (…)`; null when it is not that.
 *
 * @example
 * ```ts
 * import { parseDenoVersion } from "./deno_binary.ts";
 * parseDenoVersion("deno 2.9.6 (stable, release, x86_64-unknown-linux-gnu)\nv8 14.0\n"); // "2.9.6"
 * ```
 */
export function parseDenoVersion(stdout: string): string | null {
  const first = stdout.split("\n", 1)[0] ?? "";
  const m = /^deno (\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?)(?: \(.*\))?\s*$/.exec(first);
  return m?.[1] ?? null;
}

/**
 * The deno that runs pipelines. Not compiled: this process's own executable, no probing.
 * Compiled: `[sandbox] deno` if set (only it: a wrong configured path is an error, not a fallback), else a `deno`
 * beside the binary, else the first on PATH; its `--version` must report expectedVersion.
 * Otherwise TauError("sandbox_unavailable", …) whose hint says exactly what to do (install deno X.Y.Z from the npm registry:
 * `npm install -g deno@X.Y.Z`, put it beside taud, or set [sandbox] deno = "/path").
 */
export async function findDeno(o: FindDenoOptions): Promise<DenoChoice> {
  if (!o.standalone) return { path: o.execPath, version: o.expectedVersion, source: "self" };
  const want = o.expectedVersion;
  const install = `\`npm install -g deno@${want}\``;
  if (o.configured) {
    const path = o.configured;
    const result = isAbsolute(path)
      ? await probeDeno(path, { pathEnv: o.pathEnv, expectedVersion: want })
      : { reason: "is not an absolute path" };
    if ("version" in result) return { path, version: result.version, source: "config" };
    throw new TauError(
      "sandbox_unavailable",
      `Cannot run pipelines with [sandbox] deno = ${JSON.stringify(path)}: it ${result.reason}`,
      {
        hint:
          `point [sandbox] deno in tau.toml at a deno ${want} (install it from the npm registry: ` +
          `${install}), or remove the key to use the deno beside taud or on PATH`,
        details: { wanted: want, refused: [{ path, source: "config", reason: result.reason }] },
      },
    );
  }
  const refused: RefusedDeno[] = [];
  for (const c of candidates(o)) {
    const result = await probeDeno(c.path, { pathEnv: o.pathEnv, expectedVersion: want });
    if ("version" in result) return { path: c.path, version: result.version, source: c.source };
    refused.push({ ...c, reason: result.reason });
  }
  const besideDir = dirname(o.execPath);
  const found = refused.length
    ? `none of those found fits: ${refused.map((r) => `${r.path} ${r.reason}`).join("; ")}`
    : `found none beside ${o.execPath} or on PATH`;
  throw new TauError(
    "sandbox_unavailable",
    `Cannot run pipelines: a compiled taud starts each run with deno ${want}, and ${found}`,
    {
      hint: `install deno ${want} from the npm registry: ${install}; or put it (or a link to it) ` +
        `at ${join(besideDir, exeName())}; or set [sandbox] deno = "/path/to/deno" in tau.toml`,
      details: { wanted: want, searched: searchedDirs(o), refused },
    },
  );
}

/**
 * Runs `<path> --version` (5 s at most, an environment of PATH and HOME only) and checks that it
 * is deno `expectedVersion`; otherwise says why not, as a phrase completing "<path> …".
 *
 * @example
 * ```ts
 * import { probeDeno } from "./deno_binary.ts";
 * const r = await probeDeno(Deno.execPath(), { pathEnv: "", expectedVersion: Deno.version.deno });
 * // { version: "2.9.6" }
 * ```
 */
export async function probeDeno(
  path: string,
  options: { pathEnv: string; expectedVersion: string; timeoutMs?: number },
): Promise<{ version: string } | { reason: string }> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (err) {
    return { reason: err instanceof Deno.errors.NotFound ? "does not exist" : errorText(err) };
  }
  if (!info.isFile) return { reason: "is not a file" };
  if (info.mode !== null && (info.mode & 0o111) === 0) return { reason: "is not executable" };
  const env: Record<string, string> = { PATH: options.pathEnv };
  const home = Deno.env.get("HOME");
  if (home) env.HOME = home;
  const out = await run(path, env, options.timeoutMs ?? PROBE_TIMEOUT_MS);
  if ("reason" in out) return out;
  const version = parseDenoVersion(out.stdout);
  if (version === null) {
    const first = (out.stdout.split("\n", 1)[0] ?? "").trim().slice(0, 80);
    const said = first ? `printed ${JSON.stringify(first)}` : "printed nothing";
    return {
      reason: `is not deno: \`--version\` ${said}${out.code ? ` and exited ${out.code}` : ""}`,
    };
  }
  if (version !== options.expectedVersion) {
    return { reason: `is deno ${version}, not ${options.expectedVersion}` };
  }
  return { version };
}

/** Beside the binary, then each absolute folder of PATH in order; each file once. */
function candidates(o: FindDenoOptions): { path: string; source: "beside" | "path" }[] {
  const name = exeName();
  const seen = new Set<string>([o.execPath]);
  const list: { path: string; source: "beside" | "path" }[] = [];
  const add = (path: string, source: "beside" | "path") => {
    if (seen.has(path)) return;
    seen.add(path);
    list.push({ path, source });
  };
  add(join(dirname(o.execPath), name), "beside");
  for (const dir of searchedDirs(o).path) add(join(dir, name), "path");
  // Only files that exist are candidates; a missing one is not worth a line in the error.
  return list.filter((c) => existsSync(c.path));
}

/** The folders looked in. Relative PATH entries are skipped: they would depend on the cwd. */
function searchedDirs(o: FindDenoOptions): { beside: string; path: string[] } {
  const sep = Deno.build.os === "windows" ? ";" : ":";
  return { beside: dirname(o.execPath), path: o.pathEnv.split(sep).filter((d) => isAbsolute(d)) };
}

function exeName(): string {
  return Deno.build.os === "windows" ? "deno.exe" : "deno";
}

function existsSync(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts `path --version`; its first bytes of stdout and exit code, or why it failed. */
async function run(
  path: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ stdout: string; code: number } | { reason: string }> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: ["--version"],
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
  } catch (err) {
    if (err instanceof Deno.errors.PermissionDenied) return { reason: "is not executable" };
    return { reason: `could not be started: ${errorText(err)}` };
  }
  const reader = child.stdout.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const work = Promise.all([readHead(reader), child.status]);
  try {
    const done = await Promise.race([work, deadline]);
    if (done === "timeout") {
      try {
        child.kill("SIGKILL");
      } catch { /* it ended meanwhile */ }
      await reader.cancel().catch(() => {});
      await child.status;
      await work.catch(() => {});
      return { reason: `did not answer \`--version\` within ${timeoutMs / 1000} s` };
    }
    const [stdout, status] = done;
    return { stdout, code: status.code };
  } finally {
    clearTimeout(timer);
  }
}

/** Up to MAX_VERSION_BYTES of a stream; the rest is cancelled. */
async function readHead(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size < MAX_VERSION_BYTES) {
    const { done, value } = await reader.read();
    if (done) return new TextDecoder().decode(concat(chunks));
    chunks.push(value);
    size += value.length;
  }
  await reader.cancel();
  return new TextDecoder().decode(concat(chunks).subarray(0, MAX_VERSION_BYTES));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
