import { DatabaseSync } from "node:sqlite";
import { assert } from "../../tests/helpers/assert.ts";
import { releaseFreedMemory, trimNativeMemory } from "./native_memory.ts";

const rssMb = () => Deno.memoryUsage().rss / 2 ** 20;

Deno.test("freed native memory goes back to the system", () => {
  // ~60 MB of SQLite rows in native memory, freed again: glibc keeps the pages until trimmed.
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE t (a TEXT)");
  const insert = db.prepare("INSERT INTO t VALUES (?)");
  for (let i = 0; i < 200_000; i++) insert.run(`${i}`.padEnd(200, "x"));
  db.exec("DELETE FROM t");
  db.close();
  const before = rssMb();
  assert(releaseFreedMemory(), "malloc_trim is available on this glibc Linux");
  const after = rssMb();
  assert(before - after > 10, `resident ${before.toFixed(0)} MB before, ${after.toFixed(0)} after`);
});

Deno.test("the periodic trim stops without leaving its timer behind", () => {
  trimNativeMemory().stop(); // the test's sanitizer fails it if the interval still runs
});
