/**
 * Commands for writing pipelines: `tau check FILE` runs every deploy check and stores nothing;
 * `tau init [DIR]` makes a folder where `deno check`, `deno lsp` and editors resolve `tau`.
 */
import { TauError } from "../core/errors.ts";
import { exists } from "../core/fs.ts";
import { readableSdkDir } from "../runtime/root.ts";
import { resolveHome } from "../config/paths.ts";
import { RemoteError } from "./client.ts";
import type { CommandSpec } from "./spec.ts";

/** What `tau deploy` and `tau check` send: the file's text, its name and where it lives. */
export async function pipelineFileBody(file: string, flags: Record<string, unknown>) {
  // node:path and node:url are loaded by the commands that use them: the first node: module
  // costs a start ~20 ms (see config/paths.ts), and most commands need neither.
  const { basename, resolve } = await import("node:path");
  let code: string;
  try {
    code = await Deno.readTextFile(file);
  } catch (err) {
    throw new TauError("invalid_params", `Cannot read ${file}: ${(err as Error).message}`, {
      hint: "pass the path of a .ts pipeline file",
    });
  }
  return {
    code,
    filename: basename(file),
    source_path: resolve(file),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
    ...(flags.force ? { force: true } : {}),
  };
}

/**
 * Rewrites the absolute paths the daemon put in an error's message and hint (it cannot know the
 * caller's directory) as paths that work from here, so a hint can be run as printed.
 */
export async function localPaths(err: unknown): Promise<never> {
  const { isAbsolute, relative } = await import("node:path");
  const error = err instanceof RemoteError
    ? (err.body as { error?: Record<string, unknown> }).error
    : undefined;
  const details = error?.details as Record<string, unknown> | undefined;
  const paths = [details?.source_path, details?.deployed_from]
    .filter((p): p is string => typeof p === "string" && isAbsolute(p));
  for (const path of paths) {
    const near = relative(Deno.cwd(), path);
    const shown = near.startsWith("../../") ? path : near;
    for (const key of ["message", "hint"]) {
      if (typeof error?.[key] === "string") {
        error[key] = (error[key] as string).split(path).join(shown);
      }
    }
  }
  throw err;
}

const STARTER = (name: string) =>
  `import { pipeline } from "tau";

export default pipeline({
  name: "${name}",
  description: "A starter pipeline: edit it, then tau check and tau deploy this file",
}, async (ctx) => {
  const rows = await ctx.step("extract", (step) => {
    const data = [{ id: 1, name: "Alice" }, { id: 2, name: "Bob" }];
    step.rowsOut = data.length;
    return data;
  });
  ctx.log(\`extracted \${rows.length} rows\`);
  return { rows: rows.length };
});
`;

/** A pipeline name from a folder's name (`my-project` → `my_project`). */
function starterName(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  return /^[a-z]/.test(name) ? name.slice(0, 63) : "my_pipeline";
}

/** The import map that resolves `tau` to this installation's SDK, and the approved drivers. */
export async function sdkImports(): Promise<Record<string, string>> {
  const { pathToFileURL } = await import("node:url");
  const sdk = pathToFileURL(await readableSdkDir(resolveHome())).href;
  // Loaded here, by `tau init` alone (by a URL built at run time: see main.ts): no other
  // command needs the driver list.
  const { approvedImports }: typeof import("../sandbox/npm_cache.ts") = await import(
    new URL("../sandbox/npm_cache.ts", import.meta.url).href
  );
  return {
    "tau": `${sdk}mod.ts`,
    "tau/connectors": `${sdk}connectors/mod.ts`,
    "tau/materializations": `${sdk}materialize/mod.ts`,
    "tau/": sdk,
    ...(await approvedImports()),
  };
}

async function init(dir: string) {
  const { basename, join, relative, resolve } = await import("node:path");
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  const skipped: { path: string; reason: string }[] = [];
  const imports = await sdkImports();
  const config = join(dir, "deno.json");
  if (await exists(config)) {
    skipped.push({
      path: config,
      reason: "it exists; add the imports shown here to its import map yourself",
    });
  } else {
    await Deno.writeTextFile(config, JSON.stringify({ imports }, null, 2) + "\n");
    written.push(config);
  }
  const hasTs = (await Array.fromAsync(Deno.readDir(dir)))
    .some((e) => e.isFile && e.name.endsWith(".ts"));
  const starter = join(dir, "pipeline.ts");
  if (hasTs) {
    skipped.push({ path: starter, reason: "the folder already holds .ts files" });
  } else {
    await Deno.writeTextFile(starter, STARTER(starterName(basename(resolve(dir)))), {
      createNew: true,
    });
    written.push(starter);
  }
  const shown = (p: string) => relative(Deno.cwd(), p) || ".";
  return {
    dir: resolve(dir),
    written: written.map(shown),
    skipped: skipped.map((s) => ({ ...s, path: shown(s.path) })),
    imports,
    next: hasTs
      ? `deno check FILE, then tau check FILE`
      : `deno check ${shown(starter)}, then tau check ${shown(starter)} and tau deploy ${
        shown(starter)
      }`,
  };
}

export const AUTHORING_COMMANDS: Record<string, CommandSpec> = {
  check: {
    usage: "tau check <file> [--name NAME] [--schedule CRON] [--force]",
    description:
      "Run every deploy check (type-check, module graph, metadata, connections, dependencies) " +
      "and show the permissions a run would get, without deploying",
    options: { name: { type: "string" }, schedule: { type: "string" }, force: { type: "boolean" } },
    async run({ client, args, flags }) {
      if (args.length !== 1 || !args[0]) {
        throw new TauError("invalid_params", "Expected exactly one pipeline file", {
          hint: `usage: ${this.usage}`,
        });
      }
      const body = await pipelineFileBody(args[0], flags);
      return await (await client()).request("POST", "/pipelines/check", body).catch(localPaths);
    },
  },
  init: {
    usage: "tau init [DIR]",
    description: "Write a deno.json whose import map resolves tau to this installation's SDK " +
      "(for deno check, deno lsp and editors) and a starter pipeline; overwrites nothing",
    run({ args }) {
      if (args.length > 1) {
        throw new TauError("invalid_params", "Expected at most one folder", {
          hint: `usage: ${this.usage}`,
        });
      }
      return init(args[0] ?? ".");
    },
  },
};
