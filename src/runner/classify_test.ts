import { assertEquals } from "../../tests/helpers/assert.ts";
import { classifyChildError } from "./classify.ts";

const context = { codeUrl: "file:///h/.tau/code/p/v3/pipeline.ts", filename: "my_pipeline.ts" };

Deno.test("a denied permission names the permission, the target and how to declare it", () => {
  const error = classifyChildError({
    name: "NotCapable",
    message: 'Requires net access to "evil.example:443", run again with the --allow-net flag',
    stack: "NotCapable: Requires net access\n    at fn (file:///h/.tau/code/p/v3/pipeline.ts:12:7)",
    step: "extract",
  }, context);
  assertEquals(error.kind, "permission_denied");
  assertEquals(error.permission, "net");
  assertEquals(error.target, "evil.example:443");
  assertEquals(error.step, "extract");
  assertEquals(error.location, { file: "my_pipeline.ts", line: 12, column: 7 });
  assertEquals(error.stack?.includes("my_pipeline.ts:12:7"), true);
  assertEquals(error.hint?.includes('net: ["evil.example:443"]'), true);
});

Deno.test("ordinary exceptions keep their message and find no location outside the file", () => {
  const error = classifyChildError({
    name: "Error",
    message: "boom",
    stack: "Error: boom\n    at x (ext:core/1:1)",
    step: null,
  }, context);
  assertEquals(error.kind, "exception");
  assertEquals(error.location, null);
});

Deno.test("denials without a target still name the permission", () => {
  const classify = (name: string, message: string) =>
    classifyChildError({ name, message, stack: null, step: null }, context);
  const env = classify("NotCapable", "Requires env access, run again with the --allow-env flag");
  assertEquals([env.kind, env.permission, env.target], ["permission_denied", "env", null]);
  assertEquals(env.hint?.includes("never the whole environment"), true);
  const link = classify(
    "NotCapable",
    "Deno.symlink() requires unscoped --allow-read, run again with the --allow-read flag",
  );
  assertEquals([link.kind, link.permission], ["permission_denied", "read"]);
  const driver = classify("PostgresError", "must be owner: Requires superuser access");
  assertEquals(driver.kind, "exception");
});

Deno.test("a target no run may reach is not hinted to be declared", () => {
  const guarded = {
    ...context,
    neverAllowed: (t: string) => t === "127.0.0.1:8400" ? "the Tau daemon's own port" : null,
  };
  const classify = (target: string) =>
    classifyChildError({
      name: "NotCapable",
      message: `Requires net access to "${target}", run again with the --allow-net flag`,
      stack: null,
      step: null,
    }, guarded);
  const daemon = classify("127.0.0.1:8400");
  assertEquals([daemon.kind, daemon.target], ["permission_denied", "127.0.0.1:8400"]);
  assertEquals(daemon.hint?.includes("the Tau daemon's own port"), true);
  assertEquals(daemon.hint?.includes("net: ["), false);
  assertEquals(
    classify("api.example.com:443").hint?.includes('net: ["api.example.com:443"]'),
    true,
  );
});

Deno.test("a node:dns lookup the sandbox refused is a net denial, not an exception", () => {
  const error = classifyChildError({
    name: "Error",
    message: "getaddrinfo EPERM evil.example",
    stack: null,
    step: "resolve",
  }, context);
  assertEquals([error.kind, error.permission, error.target], [
    "permission_denied",
    "net",
    "evil.example",
  ]);
  assertEquals(error.hint?.includes("connect to evil.example by name"), true);
});

Deno.test("a step's metadata or result over the channel's bounds is invalid_output", () => {
  for (const name of ["InvalidOutput", "InvalidResult"]) {
    const error = classifyChildError(
      { name, message: "too deep", stack: null, step: null },
      context,
    );
    assertEquals(error.kind, "invalid_output");
  }
});
