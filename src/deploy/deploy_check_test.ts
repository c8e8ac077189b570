import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { pathToFileURL } from "node:url";
import { assertEquals } from "../../tests/helpers/assert.ts";
import { prepareHome } from "../config/home.ts";
import { tauPaths } from "../config/paths.ts";
import { ensureSandboxCache } from "../sandbox/npm_cache.ts";
import { deployCheck } from "./analyze.ts";

async function withHome(fn: (paths: Awaited<ReturnType<typeof homePaths>>) => Promise<void>) {
  const home = await Deno.makeTempDir({ prefix: "tau_deploy_check_" });
  try {
    await fn(await homePaths(home));
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

async function homePaths(home: string) {
  const paths = { ...tauPaths(home), denoDir: await ensureSandboxCache() };
  await prepareHome(paths);
  return paths;
}

Deno.test("the SDK type-checks clean under the deploy-time map and its driver stand-ins", async () => {
  await withHome(async (paths) => {
    // No pipeline at all: only the SDK's three entry points, as every deploy check sees them.
    const out = await deployCheck(paths, []);
    assertEquals({ code: out.code, stderr: out.stderr.trim() }, { code: 0, stderr: "" });
  });
});

Deno.test("deploy checks keep the compiler's build info under one root, not under each staged file", async () => {
  await withHome(async (paths) => {
    const file = join(paths.staging, "deploy_x", "pipeline.ts");
    await Deno.mkdir(join(paths.staging, "deploy_x"));
    await Deno.writeTextFile(file, 'import { pipeline } from "tau";\nexport default pipeline;\n');
    assertEquals((await deployCheck(paths, [file])).code, 0);
    const db = new DatabaseSync(join(paths.denoDir, "check_cache_v2"), { readOnly: true });
    try {
      const keyed = (url: string) =>
        db.prepare("SELECT count(*) AS n FROM tsbuildinfo WHERE specifier = ?").get(url)?.n;
      const root = join(paths.sdkDir, "_typecheck", "incremental_root.ts");
      assertEquals([keyed(pathToFileURL(root).href), keyed(pathToFileURL(file).href)], [1, 0]);
    } finally {
      db.close();
    }
  });
});
