import { assertEquals } from "../../tests/helpers/assert.ts";
import { excerpt } from "./excerpt.ts";
import { lineChanges } from "./changes.ts";

const CODE = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"].join("\n");

Deno.test("excerpt: three lines each side, the located one marked", () => {
  assertEquals(
    excerpt(CODE, 5),
    "  2 | b\n  3 | c\n  4 | d\n> 5 | e\n  6 | f\n  7 | g\n  8 | h",
  );
  assertEquals(excerpt(CODE, 1), "> 1 | a\n  2 | b\n  3 | c\n  4 | d");
  assertEquals(excerpt(CODE, 10)?.split("\n")[0], "   7 | g", "numbers padded to the widest");
  assertEquals(excerpt(CODE, 11), null);
});

Deno.test("lineChanges: lines added and removed by the line diff", () => {
  assertEquals(lineChanges("a\nb\nb\nc", "a\nb\nd\ne"), { lines_added: 2, lines_removed: 2 });
  assertEquals(lineChanges("a\nb", "a\nb"), { lines_added: 0, lines_removed: 0 });
});
