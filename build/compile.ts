/**
 * `deno task compile [--target T] [--out DIR]`: builds `tau` and `taud` as single binaries with
 * `deno compile`, into `dist/` (or `dist/<target>/`). `taud` embeds what runs need as real
 * files — the SDK, deno.json (the import map) and deno.lock (the approved drivers' lockfile),
 * and the sources of the DuckDB engine process — and extracts them into TAU_HOME on first start
 * (src/runtime/extract.ts). `tau` embeds the SDK's reference, generated here with `deno doc`,
 * since a compiled `tau help pipeline` has no deno to ask. Prints one JSON document.
 *
 * `deno compile` needs Deno's `denort` runtime for the target: it downloads it from
 * dl.deno.land on first use, or takes it from DENORT_BIN.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { SDK_TOPICS } from "../src/cli/help_sdk.ts";
import { SDK_DOC_FILE } from "../src/runtime/root.ts";
import { CLI_LATE_MODULES, TARGETS } from "./compile_plan.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function fail(message: string, hint: string, details?: unknown): never {
  console.log(JSON.stringify({ error: { code: "build_failed", message, hint, details } }, null, 2));
  Deno.exit(1);
}

const { values } = parseArgs({
  args: Deno.args,
  options: { target: { type: "string" }, out: { type: "string" } },
});
const target = values.target;
if (target !== undefined && !TARGETS.includes(target)) {
  fail(`Unknown target ${target}`, `choose one of ${TARGETS.join(", ")}`);
}
// `--out DIR`: somewhere else than dist/ (the tests build into a temporary folder).
const out = values.out ?? join(ROOT, "dist", target ?? "");
await Deno.mkdir(out, { recursive: true });

/** Runs deno with `args` in the checkout; its stderr is shown as it goes (progress). */
async function deno(args: string[], stdout: "piped" | "inherit" = "inherit") {
  const result = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdout,
    stderr: "inherit",
  }).output();
  return {
    ok: result.success,
    stdout: new TextDecoder().decode(result.stdout ?? new Uint8Array()),
  };
}

// The SDK's reference, as `tau help pipeline|connectors|materializations` reads it.
const docs: Record<string, unknown> = {};
for (const [topic, file] of Object.entries(SDK_TOPICS)) {
  const doc = await deno(["doc", "--json", join("sdk", file)], "piped");
  if (!doc.ok) {
    fail(`deno doc sdk/${file} failed`, "check that the SDK type-checks: deno check sdk/");
  }
  docs[topic] = JSON.parse(doc.stdout);
}
const docFile = join(ROOT, SDK_DOC_FILE);
await Deno.mkdir(join(docFile, ".."), { recursive: true });
await Deno.writeTextFile(docFile, JSON.stringify(docs));

const common = [
  "compile",
  "-A",
  "--no-check",
  "--frozen",
  ...(target ? ["--target", target] : []),
  "--exclude",
  "**/*_test.ts",
];
const suffix = target?.includes("windows") ? ".exe" : "";
const built: Record<string, string> = {};
for (
  const [name, main, include] of [
    // The CLI's modules loaded by a URL built at run time (see src/cli/main.ts), the SDK for
    // `tau init`, and the SDK's generated reference.
    ["tau", "src/cli/main.ts", [...CLI_LATE_MODULES, "sdk/", "deno.json", SDK_DOC_FILE]],
    ["taud", "src/daemon/main.ts", ["src/", "sdk/", "deno.json", "deno.lock"]],
  ] as const
) {
  const binary = join(out, name + suffix);
  const result = await deno([
    ...common,
    ...include.flatMap((path) => ["--include", path]),
    "--output",
    binary,
    main,
  ]);
  if (!result.ok) {
    fail(
      `deno compile of ${name} failed (its output is above)`,
      "deno compile needs Deno's denort runtime: it downloads it from dl.deno.land, or set " +
        "DENORT_BIN=/path/to/denort (the denort of the same Deno version)",
    );
  }
  built[name] = binary;
}
console.log(JSON.stringify(
  { built, target: target ?? Deno.build.target, deno: Deno.version.deno },
  null,
  2,
));
