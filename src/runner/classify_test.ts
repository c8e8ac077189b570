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
      { code: "invalid_output", name, message: "too deep", stack: null, step: null },
      context,
    );
    assertEquals(error.kind, "invalid_output");
  }
});

Deno.test("Tau's own errors are classified by their code, never by their class name", () => {
  const kind = (code: string | undefined, name: string) =>
    classifyChildError({ code, name, message: "m", stack: null, step: null }, context).kind;
  assertEquals(kind("undeclared_secret", "Error"), "undeclared_secret");
  assertEquals(kind("secret_not_set", "Whatever"), "secret_not_set");
  assertEquals(kind("undeclared_connection", "Error"), "undeclared_connection");
  assertEquals(kind("schema_change", "Error"), "schema_change");
  assertEquals(kind("invalid_pipeline", "Error"), "invalid_pipeline");
  // A class name alone (a pipeline's own error of that name) is an exception like any other.
  assertEquals(kind(undefined, "SecretNotDeclaredError"), "exception");
  assertEquals(kind(undefined, "SchemaChangeError"), "exception");
});

Deno.test("every subprocess attempt is a run denial, however Deno reported it", () => {
  const classify = (name: string, message: string, frame: string) =>
    classifyChildError({
      name,
      message,
      stack: `${name}: ${message}\n    at ${frame}\n    at fn (${context.codeUrl}:9:54)`,
      step: null,
    }, context);
  // A bare name is looked up on PATH (a run has none) before run is checked: NotFound.
  const bare = classify(
    "NotFound",
    "Failed to spawn 'id': entity not found",
    "spawnInner (ext:deno_process/40_process.js:1:8464)",
  );
  assertEquals([bare.kind, bare.permission, bare.target], ["permission_denied", "run", "id"]);
  assertEquals(bare.message.includes("a run may not start subprocesses"), true);
  assertEquals(bare.hint?.includes("never start or signal processes"), true);
  assertEquals(bare.location, { file: "my_pipeline.ts", line: 9, column: 54 });
  const path = classify(
    "NotCapable",
    'Requires run access to "/bin/sh", run again with the --allow-run flag',
    "spawnInner (ext:deno_process/40_process.js:1:8464)",
  );
  assertEquals([path.permission, path.target], ["run", "/bin/sh"]);
  // node:child_process is refused the environment it copies before it asks for run.
  for (
    const [message, frame] of [
      [
        "Requires env access, run again with the --allow-env flag",
        "normalizeSpawnArguments (ext:deno_node/internal/child_process.ts:1:16895)",
      ],
      [
        'Requires env access to "NODE_V8_COVERAGE", run again with the --allow-env flag',
        "copyProcessEnvToEnv (ext:deno_node/internal/child_process.ts:1:13310)",
      ],
    ]
  ) {
    const node = classify("NotCapable", message!, frame!);
    assertEquals([node.kind, node.permission], ["permission_denied", "run"]);
    assertEquals(node.message, message);
  }
  // The same env denial outside process-starting code stays an env denial.
  const env = classify(
    "NotCapable",
    'Requires env access to "HOME", run again with the --allow-env flag',
    "getEnv (ext:deno_os/30_os.js:1:1291)",
  );
  assertEquals([env.permission, env.target], ["env", "HOME"]);
});
