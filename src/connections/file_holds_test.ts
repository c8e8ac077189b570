import { assertEquals } from "../../tests/helpers/assert.ts";
import { holdFile } from "./file_holds.ts";

const settled = async (p: Promise<void>) => {
  let done = false;
  void p.then(() => done = true);
  await new Promise((r) => setTimeout(r, 10));
  return done;
};

Deno.test("file holds: one holder at a time, in order, even when a waiter gives up", async () => {
  const path = `/tmp/tau_hold_${crypto.randomUUID()}.duckdb`;
  const a = holdFile(path);
  const b = holdFile(path);
  assertEquals(await settled(a.ready), true);
  assertEquals(await settled(b.ready), false);
  b.release(); // b gives up before its turn: c must still wait for a
  const c = holdFile(path);
  assertEquals(await settled(c.ready), false);
  a.release();
  assertEquals(await settled(c.ready), true);
  c.release();
  assertEquals(await settled(holdFile(path).ready), true);
});
