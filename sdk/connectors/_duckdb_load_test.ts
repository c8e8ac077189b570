import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { FILE_ROWS, LOAD_FOLDER, LoadStager } from "./_duckdb_load.ts";
import { checkColumns } from "./_warehouse.ts";
import { ConnectorError } from "./types.ts";

Deno.test("load staging: files of at most FILE_ROWS rows and about 8 MiB, bigints as text", () => {
  const stager = new LoadStager(7, "/nowhere");
  const narrow = Array.from({ length: FILE_ROWS + 10 }, (_, id) => ({ id }));
  assertEquals([...stager.texts(narrow)].map((t) => JSON.parse(t).length), [FILE_ROWS, 10]);
  // 100 rows of 200 KiB: 40 to a file, after the first too-large try sets the share.
  const wide = Array.from({ length: 100 }, (_, id) => ({ id, pad: "x".repeat(200 * 1024) }));
  const sizes = [...new LoadStager(8, "/nowhere").texts(wide)].map((t) => t.length);
  assertEquals(sizes.length, 3);
  for (const size of sizes) assertEquals(size <= 8 * 1024 * 1024, true);
  const [big] = [...stager.texts([{ n: 2n ** 64n, nested: { m: -1n } }])];
  assertEquals(JSON.parse(big!), [{ n: "18446744073709551616", nested: { m: "-1" } }]);
});

Deno.test("load staging: written under the load folder as LOAD_N.json, removed after", async () => {
  const scratch = await Deno.makeTempDir();
  try {
    const stager = new LoadStager(3, scratch);
    const file = await stager.write('[{"a":1}]');
    assertEquals(file, "3_1.json");
    assertEquals(await Deno.readTextFile(`${scratch}/${LOAD_FOLDER}/${file}`), '[{"a":1}]');
    assertEquals(await stager.write("[]"), "3_2.json");
    await stager.remove(file);
    await stager.remove(file); // already gone: no error
    const left = [...Deno.readDirSync(`${scratch}/${LOAD_FOLDER}`)].map((e) => e.name);
    assertEquals(left, ["3_2.json"]);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("load staging: a column the first batch did not have is refused by name", () => {
  checkColumns([{ a: 1 }, { b: null }], new Set(["a", "b"]), "t");
  assert.throws(
    () => checkColumns([{ a: 1, extra: 2 }], new Set(["a"]), "raw.t", "x: "),
    (err: unknown) =>
      err instanceof ConnectorError &&
      err.message.startsWith('x: Cannot load into raw.t: column "extra" is not in the first batch'),
  );
});
