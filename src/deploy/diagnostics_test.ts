import { assertEquals } from "../../tests/helpers/assert.ts";
import { importAt, parseDenoOutput, positionOf } from "./diagnostics.ts";
import { refusedImport } from "./imports.ts";

const FILE = "file:///home/.tau/staging/deploy_1/pipeline.ts";

Deno.test("deno check output becomes one diagnostic per error, without its source frame", () => {
  const output = `TS2322 [ERROR]: Type 'string' is not assignable to type 'number'.
  const a: { b: { c: number } } = { b: { c: "s" } };
                                         ^
    at ${FILE}:3:42

    The expected type comes from property 'c' which is declared here on type '{ c: number; }'
      const a: { b: { c: number } } = { b: { c: "s" } };
                      ^
        at ${FILE}:3:19

TS2345 [ERROR]: Argument of type '{ a: number; }' is not assignable to parameter of type 'Row'.
  Object literal may only specify known properties, and 'a' does not exist in type 'Row'.
  f({ a: 1 });
      ~
    at ${FILE}:4:7

TS7006 [ERROR]: Parameter 't' implicitly has an 'any' type.
  (t) => t,
   ^
    at file:///tau/sdk/materialize/config.ts:123:4

Found 3 errors.

error: Type checking failed.
`;
  const { diagnostics, other } = parseDenoOutput(output);
  assertEquals(other, []);
  assertEquals(diagnostics, [
    {
      url: FILE,
      line: 3,
      column: 42,
      code: "TS2322",
      message: "Type 'string' is not assignable to type 'number'.",
    },
    {
      url: FILE,
      line: 4,
      column: 7,
      code: "TS2345",
      message: "Argument of type '{ a: number; }' is not assignable to parameter of type 'Row'.\n" +
        "Object literal may only specify known properties, and 'a' does not exist in type 'Row'.",
    },
    {
      url: "file:///tau/sdk/materialize/config.ts",
      line: 123,
      column: 4,
      code: "TS7006",
      message: "Parameter 't' implicitly has an 'any' type.",
    },
  ]);
});

Deno.test("a syntax error and an unresolvable import are diagnostics too", () => {
  const syntax = parseDenoOutput(`error: SyntaxError: Unterminated template
  |
7 | const y = \`unterminated
  |           ~~~~~~~~~~~~~
8 |
  | ~
    at ${FILE}:7:11
`);
  assertEquals(syntax.diagnostics, [
    { url: FILE, line: 7, column: 11, code: "SyntaxError", message: "Unterminated template" },
  ]);
  const npm = parseDenoOutput(`error: npm specifiers were requested; but --no-npm is specified
    at ${FILE}:2:21
`);
  assertEquals(npm.diagnostics[0]?.code, "error");
  assertEquals([npm.diagnostics[0]?.line, npm.diagnostics[0]?.column], [2, 21]);
  // An error with no place is kept, not dropped.
  assertEquals(parseDenoOutput("error: something else broke\n").other, ["something else broke"]);
});

Deno.test("the import written at a place, and only an import", () => {
  const code = `import { pipeline } from "tau";
import { helper } from './helpers.ts';
import {
  a,
} from "npm:left-pad@1";
const lazy = await import("node:fs");
f("not an import");
`;
  assertEquals(importAt(code, 1, 26), "tau");
  assertEquals(importAt(code, 2, 24), "./helpers.ts");
  assertEquals(importAt(code, 5, 8), "npm:left-pad@1");
  assertEquals(importAt(code, 6, 27), "node:fs");
  assertEquals(importAt(code, 7, 3), null);
  assertEquals(importAt(code, 2, 1), null);
  assertEquals(importAt(code, 99, 1), null);
  assertEquals(positionOf(code, code.indexOf("helper")), { line: 2, column: 10 });
});

Deno.test("refused imports say which rule they break", () => {
  const reason = (s: string) => refusedImport(s)?.reason ?? null;
  for (
    const allowed of ["tau", "tau/connectors", "tau/_harness.ts", "node:fs", "postgres", "zod"]
  ) {
    assertEquals(reason(allowed), null, allowed);
  }
  assertEquals(reason("./helpers.ts"), "single_file");
  assertEquals(reason("../x.ts"), "single_file");
  assertEquals(reason("/etc/passwd"), "single_file");
  assertEquals(reason("https://evil.example/mod.ts"), "remote");
  assertEquals(reason("jsr:@std/path"), "remote");
  assertEquals(reason("express"), "not_approved");
  assertEquals(
    refusedImport("npm:@scope/pkg@1.2.3/sub")?.message,
    "The npm package @scope/pkg is not approved for pipelines",
  );
  assertEquals(
    refusedImport("npm:mysql2@3.24.6/promise")?.message,
    'Import the approved package mysql2/promise by its name, "mysql2/promise", not npm:mysql2@3.24.6/promise',
  );
});

Deno.test("related information Deno prints as its own diagnostic joins the one before", () => {
  const output = `TS2339 [ERROR]: Property 'load' does not exist on type 'Promise<Connector>'.
  return await wh.load([], { table: "t" });
                  ~~~~
    at ${FILE}:4:19

TS2773 [ERROR]:     Did you forget to use 'await'?
      return await wh.load([], { table: "t" });
                      ~~~~
        at ${FILE}:4:19

error: Type checking failed.
`;
  assertEquals(parseDenoOutput(output).diagnostics, [{
    url: FILE,
    line: 4,
    column: 19,
    code: "TS2339",
    message: "Property 'load' does not exist on type 'Promise<Connector>'.\n" +
      "Did you forget to use 'await'?",
  }]);
});
