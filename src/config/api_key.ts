/**
 * The local admin API key in TAU_HOME: made (0600) by the daemon on first start, read by the CLI
 * on the same machine. Kept apart from home.ts so the CLI loads nothing else of the daemon's.
 */
import { exists } from "../core/fs.ts";
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "./paths.ts";

/** Shortest local key accepted from an existing file (a generated one has 55 characters). */
const MIN_KEY_LENGTH = 16;

/**
 * Returns the local admin key, creating it (0600) if missing. An existing file readable by
 * others is narrowed to 0600; an empty or too short one is refused rather than trusted.
 */
export async function ensureApiKey(paths: TauPaths): Promise<string> {
  if (await exists(paths.apiKey)) {
    const { mode } = await Deno.stat(paths.apiKey);
    if (mode !== null && (mode & 0o077) !== 0) await Deno.chmod(paths.apiKey, 0o600);
    const key = (await Deno.readTextFile(paths.apiKey)).trim();
    if (key.length < MIN_KEY_LENGTH) {
      throw new TauError("invalid_config", `${paths.apiKey} holds no usable API key`, {
        hint: "delete the file and start taud again: a new key is created",
      });
    }
    return key;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  const key = "tau_sk_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeTextFile(paths.apiKey, key + "\n", { mode: 0o600, createNew: true });
  await Deno.chmod(paths.apiKey, 0o600);
  return key;
}

/** The local key, or undefined. Read synchronously, as readState reads (see daemon/state.ts). */
export function readApiKey(paths: TauPaths): Promise<string | undefined> {
  try {
    return Promise.resolve(Deno.readTextFileSync(paths.apiKey).trim() || undefined);
  } catch {
    return Promise.resolve(undefined);
  }
}
