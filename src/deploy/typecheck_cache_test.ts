import { join } from "node:path";
import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { passedBefore, rememberPassed, typecheckMarker } from "./typecheck_cache.ts";

async function fixture() {
  const root = await Deno.makeTempDir();
  const sdkDir = join(root, "sdk");
  await Deno.mkdir(join(sdkDir, "_typecheck"), { recursive: true });
  await Deno.writeTextFile(join(sdkDir, "mod.ts"), "export const a = 1;\n");
  await Deno.writeTextFile(join(sdkDir, "_typecheck", "zod.ts"), "export const z: any = 1;\n");
  const typecheckMap = join(root, "typecheck_map.json");
  await Deno.writeTextFile(typecheckMap, '{"imports":{"tau":"./sdk/mod.ts"}}');
  return { root, inputs: { denoDir: join(root, "cache"), sdkDir, typecheckMap, code: "x" } };
}

Deno.test("typecheck cache: a marker per exact inputs, remembered only when told", async () => {
  const { root, inputs } = await fixture();
  try {
    const marker = await typecheckMarker(inputs);
    assertEquals(await typecheckMarker(inputs), marker, "the same inputs give the same marker");
    assertEquals(await passedBefore(marker), false);
    await rememberPassed(marker);
    assert.ok(await passedBefore(marker));
    assert.ok(marker.startsWith(join(inputs.denoDir, "typechecked")));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("typecheck cache: any change to the code, the SDK, a stand-in or the map is a new key", async () => {
  const { root, inputs } = await fixture();
  try {
    const seen = new Set([await typecheckMarker(inputs)]);
    const changes: [string, () => Promise<void>][] = [
      ["code", () => Promise.resolve(void (inputs.code = "y"))],
      [
        "an SDK file",
        () => Deno.writeTextFile(join(inputs.sdkDir, "mod.ts"), "export const a = 2;\n"),
      ],
      ["a stand-in", () => Deno.writeTextFile(join(inputs.sdkDir, "_typecheck", "zod.ts"), "//\n")],
      ["a new SDK file", () => Deno.writeTextFile(join(inputs.sdkDir, "extra.ts"), "")],
      ["the map", () => Deno.writeTextFile(inputs.typecheckMap, "{}")],
    ];
    for (const [what, change] of changes) {
      await change();
      const marker = await typecheckMarker(inputs);
      assert.ok(!seen.has(marker), `changing ${what} must change the key`);
      seen.add(marker);
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
