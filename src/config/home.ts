/** Creates TAU_HOME on first start: folders, the local API key (mode 0600), the import map. */
import { exists } from "../core/fs.ts";
import { TauError } from "../core/errors.ts";
import { APPROVED_DRIVERS, approvedImports } from "../sandbox/npm_cache.ts";
import { pathToFileURL } from "node:url";
import type { TauPaths } from "./paths.ts";
import { RUN_VIEW } from "../sandbox/run_view.ts";

export async function prepareHome(paths: TauPaths): Promise<void> {
  await Deno.mkdir(paths.home, { recursive: true, mode: 0o700 });
  for (const dir of [paths.code, paths.runs, paths.staging]) {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  }
  await ensureApiKey(paths);
  const sdk = pathToFileURL(paths.sdkDir).href;
  const importMap = {
    imports: {
      "tau": `${sdk}mod.ts`,
      "tau/connectors": `${sdk}connectors/mod.ts`,
      "tau/materializations": `${sdk}materialize/mod.ts`,
      "tau/": sdk,
      ...(await approvedImports()),
    },
  };
  await Deno.writeTextFile(paths.importMap, JSON.stringify(importMap, null, 2) + "\n");
  // Inside the OS boundary runs see the SDK at a neutral path (RUN_VIEW), not where it lives.
  const view = JSON.stringify(importMap).replaceAll(sdk, pathToFileURL(`${RUN_VIEW.sdk}/`).href);
  await Deno.writeTextFile(paths.viewImportMap, JSON.stringify(JSON.parse(view), null, 2) + "\n");
  // The deploy-time type-check sees the drivers through any-typed stand-ins (sdk/_typecheck).
  const stubs = Object.fromEntries(
    Object.entries(APPROVED_DRIVERS).map(([name, stub]) => [name, `${sdk}_typecheck/${stub}`]),
  );
  const typecheckMap = { imports: { ...importMap.imports, ...stubs } };
  await Deno.writeTextFile(paths.typecheckMap, JSON.stringify(typecheckMap, null, 2) + "\n");
}

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

export async function readApiKey(paths: TauPaths): Promise<string | undefined> {
  try {
    return (await Deno.readTextFile(paths.apiKey)).trim() || undefined;
  } catch {
    return undefined;
  }
}
