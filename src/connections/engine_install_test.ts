import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { join } from "node:path";

const MODULE = new URL("./engine_install.ts", import.meta.url).href;

/** engineInstall() in a fresh process (the install is a per-process singleton). */
async function installIn(cache: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const { engineInstall } = await import(${JSON.stringify(MODULE)});
       console.log(JSON.stringify(await engineInstall()));`,
    ],
    env: { TAU_SANDBOX_CACHE: cache },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(out.success, new TextDecoder().decode(out.stderr));
  return JSON.parse(new TextDecoder().decode(out.stdout));
}

Deno.test("the engine installation is built once per machine, and again when its code changes", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const first = await installIn(cache);
    const [key] = [...Deno.readDirSync(join(cache, "engine"))].map((e) => e.name);
    const dir = join(cache, "engine", key!);
    assertEquals(first.importMap, join(dir, "import_map.json"));
    assert(first.template, "the compiler-cache template was warmed");
    assert(first.readOnly.some((p: string) => p.endsWith("engine_main.ts")));
    const record = join(dir, "install.json");
    const built = (await Deno.stat(record)).mtime;

    // A second daemon start reads it: the same installation, nothing rebuilt.
    assertEquals(await installIn(cache), first);
    assertEquals((await Deno.stat(record)).mtime, built);

    // A recorded source hash that no longer matches (an edited engine) is installed again.
    const cached = JSON.parse(await Deno.readTextFile(record));
    const [source] = Object.keys(cached.sources);
    cached.sources[source!] = "0".repeat(64);
    await Deno.writeTextFile(record, JSON.stringify(cached));
    assertEquals(await installIn(cache), first);
    const rebuilt = JSON.parse(await Deno.readTextFile(record));
    assert(rebuilt.sources[source!] !== "0".repeat(64), "the fresh record hashes the real file");
    assertEquals([...Deno.readDirSync(join(cache, "engine"))].map((e) => e.name), [key]);
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});
