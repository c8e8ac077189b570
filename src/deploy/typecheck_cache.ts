/**
 * Type-checks that passed, remembered by everything that decides them: the pipeline's code,
 * every file of the SDK (its type-check stand-ins included), the type-check import map and the
 * Deno version. A pipeline's type-check reads nothing else — it runs with no network and no
 * npm, and the graph check after it refuses any import but the SDK's, built-ins and approved
 * drivers — so the same file deployed again, to this daemon or to any TAU_HOME on the machine,
 * skips about 1.5 s of compiler time. Failures are never remembered: they are checked again,
 * and their diagnostics come from the compiler every time.
 *
 * The markers live beside the compiler's own caches in the sandbox module cache (runs link
 * only its `npm` folder, so they never see them).
 */
import { join, relative } from "node:path";
import { exists } from "../core/fs.ts";
import { sha256Hex } from "../core/ids.ts";

export interface TypecheckInputs {
  /** The sandbox module cache (the type-check's DENO_DIR). */
  denoDir: string;
  sdkDir: string;
  typecheckMap: string;
  code: string;
}

/** The marker file of a passed check of exactly these inputs. */
export async function typecheckMarker(inputs: TypecheckInputs): Promise<string> {
  const key = sha256Hex(
    JSON.stringify([
      Deno.version.deno,
      await Deno.readTextFile(inputs.typecheckMap),
      await sdkFingerprint(inputs.sdkDir),
      inputs.code,
    ]),
  );
  return join(inputs.denoDir, "typechecked", key);
}

export function passedBefore(marker: string): Promise<boolean> {
  return exists(marker);
}

/** Records a passed check; a marker that cannot be written only costs the next check. */
export async function rememberPassed(marker: string): Promise<void> {
  try {
    await Deno.mkdir(join(marker, ".."), { recursive: true });
    await Deno.writeTextFile(marker, "");
  } catch { /* a read-only cache: the check simply runs again next time */ }
}

/** One hash of every file under the SDK, by path and content (read each time: ~1 ms). */
async function sdkFingerprint(sdkDir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) files.push(path);
    }
  };
  await walk(sdkDir);
  files.sort();
  const parts = await Promise.all(
    files.map(async (file) => `${relative(sdkDir, file)}\0${await Deno.readTextFile(file)}`),
  );
  return sha256Hex(parts.join("\0"));
}
