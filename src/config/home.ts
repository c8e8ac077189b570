/** Creates TAU_HOME on first start: folders, the local API key (mode 0600), the import map. */
import { APPROVED_DRIVERS, approvedImports } from "../sandbox/npm_cache.ts";
import { pathToFileURL } from "node:url";
import type { TauPaths } from "./paths.ts";
import { ensureApiKey } from "./api_key.ts";
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
