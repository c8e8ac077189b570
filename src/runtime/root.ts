/**
 * Where the files runs need live, and which `deno` runs them. From a checkout: the checkout
 * itself and this process's own executable. From a binary built with `deno compile`
 * (`Deno.build.standalone`): the binary's embedded files cannot be read by a `deno run` child,
 * and `Deno.execPath()` is the binary, so the daemon extracts them into TAU_HOME and finds a
 * real deno at start ({@link prepareRuntime}), and every later use reads them from here.
 */
// Loaded by every CLI start (through config/paths.ts): no `node:` module here, and what only a
// compiled daemon needs is imported when it is needed.

/** The checkout, or inside a compiled binary the root of its embedded files; ends in `/`. */
export const SOURCE_ROOT = decodeURIComponent(new URL("../../", import.meta.url).pathname);

/** The SDK's reference from `deno doc --json`, embedded in a compiled `tau` by build/compile.ts. */
export const SDK_DOC_FILE = "dist/.embed/sdk_doc.json";

/** `relative` under the folder `root`. */
function under(root: string, relative: string): string {
  return `${root.replace(/\/?$/, "/")}${relative}`;
}

export interface Runtime {
  /** A real folder holding deno.json, deno.lock, sdk/ and src/. */
  root: string;
  /** The deno that runs pipelines, deploy checks and the DuckDB engine. */
  deno: string;
  /** What `tau status` reports under `build`. */
  report: RuntimeReport;
}

export interface RuntimeReport {
  compiled: boolean;
  deno: { path: string; version: string; source: string };
  /** Where the files runs need were extracted; null when they are read from the checkout. */
  runtime_dir: string | null;
}

const fromCheckout: Runtime = {
  root: SOURCE_ROOT,
  deno: Deno.execPath(),
  report: {
    compiled: false,
    deno: { path: Deno.execPath(), version: Deno.version.deno, source: "self" },
    runtime_dir: null,
  },
};

// One daemon process has one runtime: set once at its start, read everywhere after.
let current: Runtime = fromCheckout;

export function runtime(): Runtime {
  return current;
}

/** The folder of the SDK pipelines import as `tau`. */
export function sdkDir(): string {
  return under(current.root, "sdk/");
}

/**
 * Makes this process's runtime ready: nothing to do from a checkout; from a compiled binary,
 * the embedded files are extracted into `<home>/runtime/<hash>/` (or an intact earlier
 * extraction is reused) and a deno of the version Tau was built with is found, or the start is
 * refused with `sandbox_unavailable`.
 */
export async function prepareRuntime(
  home: string,
  options: { configuredDeno?: string | null; standalone?: boolean } = {},
): Promise<Runtime> {
  if (!(options.standalone ?? Deno.build.standalone)) return current = fromCheckout;
  const { findDeno } = await import("./deno_binary.ts");
  const { extractRuntime, runtimeFiles } = await import("./extract.ts");
  const deno = await findDeno({
    standalone: true,
    configured: options.configuredDeno ?? null,
    execPath: Deno.execPath(),
    pathEnv: Deno.env.get("PATH") ?? "",
    expectedVersion: Deno.version.deno,
  });
  const files = await runtimeFiles(SOURCE_ROOT);
  const extraction = await extractRuntime(SOURCE_ROOT, files, under(home, "runtime"));
  current = {
    root: extraction.dir,
    deno: deno.path,
    report: {
      compiled: true,
      deno: { path: deno.path, version: deno.version, source: deno.source },
      runtime_dir: extraction.dir,
    },
  };
  return current;
}

/**
 * The SDK folder a user's editor and `deno check` can read (`tau init`'s import map): from a
 * compiled `tau`, the SDK is extracted into `<home>/runtime/<hash>/` first.
 */
export async function readableSdkDir(home: string): Promise<string> {
  if (!Deno.build.standalone) return sdkDir();
  const { extractRuntime, runtimeFiles } = await import("./extract.ts");
  const files = (await runtimeFiles(SOURCE_ROOT))
    .filter((file) => file.startsWith("sdk/") || file === "deno.json");
  const extraction = await extractRuntime(SOURCE_ROOT, files, under(home, "runtime"));
  return under(extraction.dir, "sdk/");
}
