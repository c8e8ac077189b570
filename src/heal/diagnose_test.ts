import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import type { LogRecord, PipelineVersion, RunRecord, StepRecord } from "../store/mod.ts";
import { DEFAULT_LIMITS } from "../sandbox/permissions.ts";
import { diagnose } from "./diagnose.ts";
import type { DiagnosisInput, Evidence } from "./types.ts";

const CODE = `import { pipeline } from "tau";

export default pipeline({ name: "p", net: ["api.example.com:443"] }, async (ctx) => {
  const res = await fetch("https://other.example.com/orders");
  return await ctx.step("extract", () => res.json());
});
`;

function version(n: number, code = CODE, metadata = {}): PipelineVersion {
  return {
    pipeline: "p",
    version: n,
    hash: `h${n}`,
    filename: "p.ts",
    code,
    metadata: { net: ["api.example.com:443"], secrets: [], connections: [], ...metadata },
    created_at: "2026-01-01T00:00:00.000Z",
    source: "deploy",
    parent: null,
    heal_id: null,
    promoted_at: "2026-01-01T00:00:00.000Z",
  };
}

/** A stored run permission set granting `hosts`. */
function grants(hosts: string[]) {
  return { net: hosts, env: [], limits: { ...DEFAULT_LIMITS, timeout_ms: 3000, memory_mb: 256 } };
}

function run(patch: Partial<RunRecord>): RunRecord {
  return {
    run_id: "r_failed",
    pipeline: "p",
    version: 2,
    status: "failed",
    trigger: "manual",
    params: {},
    attempt: 1,
    max_attempts: 1,
    created_at: "2026-01-02T00:00:00.000Z",
    started_at: "2026-01-02T00:00:00.000Z",
    finished_at: "2026-01-02T00:00:01.000Z",
    duration_ms: 1000,
    result: null,
    error: null,
    permissions: { limits: { ...DEFAULT_LIMITS, timeout_ms: 3000, memory_mb: 256 } },
    attempts: [],
    pid: null,
    scheduled_at: null,
    logical_run: null,
    downstream: false,
    exclusive: false,
    pool: null,
    worker_id: null,
    lease_expires_at: null,
    sandbox: null,
    access: null,
    diagnosis: null,
    ...patch,
  };
}

function step(name: string, status: StepRecord["status"], patch: Partial<StepRecord> = {}) {
  return {
    run_id: "r_failed",
    attempt: 1,
    seq: 0,
    name,
    status,
    started_at: "2026-01-02T00:00:00.000Z",
    finished_at: null,
    duration_ms: 5,
    rows_in: null,
    rows_out: null,
    metadata: {},
    error: null,
    ...patch,
  } satisfies StepRecord;
}

const log = (seq: number, level: LogRecord["level"], message: string): LogRecord => ({
  run_id: "r_failed",
  attempt: 1,
  seq,
  ts: "2026-01-02T00:00:00.500Z",
  level,
  step: null,
  message,
});

function input(patch: Partial<DiagnosisInput>): DiagnosisInput {
  return { run: run({}), steps: [], logs: [], version: version(2), lastSuccess: null, ...patch };
}

/** Every evidence item's text is found verbatim at its place in the records. */
function assertCited(evidence: Evidence[], ...records: unknown[]) {
  assert.ok(evidence.length > 0, "evidence is never empty");
  const all = JSON.stringify(records);
  for (const item of evidence) {
    assert.ok(
      all.includes(JSON.stringify(item.text).slice(1, -1)) || all.includes(item.text),
      `${item.ref}: ${item.text} is quoted from the records`,
    );
  }
}

Deno.test("diagnose: an undeclared host asks for exactly that host:port", () => {
  const error = {
    kind: "permission_denied" as const,
    message: 'Requires net access to "other.example.com:443"',
    permission: "net",
    target: "other.example.com:443",
    step: null,
    location: { file: "p.ts", line: 4, column: 21 },
  };
  const i = input({ run: run({ error }), logs: [log(0, "info", "starting")] });
  const d = diagnose(i);
  assertEquals(d.class, "permission_denied");
  assertEquals(d.suggestions, [{ action: "declare_net", host: "other.example.com:443" }]);
  assertEquals(d.location, error.location);
  assert.ok(
    d.excerpt?.includes('> 4 |   const res = await fetch("https://other.example.com/orders");'),
  );
  assert.ok(d.evidence.some((e) => e.ref === "error.target" && e.text === "other.example.com:443"));
  assert.ok(d.evidence.some((e) => e.source === "version" && e.ref === "v2:p.ts:4"));
  assertCited(d.evidence, i);
  assertEquals(d.changed_since_success, null);
});

Deno.test("diagnose: an env denial asks to declare the secret; never-reachable hosts get no declare_net", () => {
  const env = diagnose(input({
    run: run({
      error: { kind: "permission_denied", message: "x", permission: "env", target: "TOKEN" },
    }),
  }));
  assertEquals(env.suggestions, [{ action: "declare_secret", name: "TOKEN" }]);
  const daemon = diagnose(input({
    run: run({
      error: {
        kind: "permission_denied",
        message: "127.0.0.1:8080 resolves to 127.0.0.1, the daemon, which no run may reach",
        permission: "net",
        target: "127.0.0.1:8080",
      },
    }),
  }));
  assert.ok(!daemon.suggestions.some((s) => s.action === "declare_net"));
});

Deno.test("diagnose: a secret declared but not set asks to set it", () => {
  const error = {
    kind: "secret_not_set" as const,
    message: "Cannot read secret API_TOKEN: it is declared but not set in the daemon's environment",
  };
  const d = diagnose(input({ run: run({ error }) }));
  assertEquals(d.class, "secret_missing");
  assertEquals(d.suggestions, [{ action: "set_secret", name: "API_TOKEN" }]);
  assertEquals(d.summary, error.message);
});

Deno.test("diagnose: a timeout quotes the limit and suggests twice as long", () => {
  const r = run({
    status: "timed_out",
    error: { kind: "timeout", message: "timed out", step: "load" },
  });
  const d = diagnose(
    input({ run: r, steps: [step("extract", "success"), step("load", "timed_out", { seq: 1 })] }),
  );
  assertEquals(d.class, "timeout");
  assertEquals(d.step, "load");
  assertEquals(d.suggestions, [{ action: "raise_timeout", current_ms: 3000, suggested_ms: 6000 }]);
  assert.ok(
    d.evidence.some((e) =>
      e.ref === "run:r_failed.permissions.limits.timeout_ms" && e.text === "3000"
    ),
  );
  assert.ok(d.evidence.some((e) => e.source === "step" && e.text === "timed_out"));
});

Deno.test("diagnose: a memory limit suggests raising memoryMb", () => {
  const d = diagnose(input({
    run: run({
      error: { kind: "memory_limit", message: "The run used more memory than its limit" },
    }),
  }));
  assertEquals(d.class, "resource_limit");
  assertEquals(d.suggestions, [{
    action: "raise_limit",
    limit: "memoryMb",
    current: 256,
    suggested: 512,
  }]);
});

Deno.test("diagnose: a failure that started with a new version suggests rolling back", () => {
  const error = {
    kind: "exception" as const,
    message: 'column "customer" does not exist',
    step: "extract",
    location: { file: "p.ts", line: 5, column: 10 },
    details: { source: "postgres", code: "42703", column: "customer" },
  };
  const success = run({
    run_id: "r_ok",
    version: 1,
    status: "success",
    params: {},
    duration_ms: 800,
    permissions: grants(["api.example.com:443"]),
  });
  const older = version(1, CODE.replace("other", "api"), { net: ["api.example.com:443"] });
  const i = input({
    // The warehouse host comes from a connection: only the run's permission set shows it.
    run: run({ error, permissions: grants(["api.example.com:443", "db.internal:5432"]) }),
    version: version(2, CODE, { net: ["api.example.com:443"], connections: ["warehouse"] }),
    steps: [step("extract", "failed", { rows_out: null })],
    lastSuccess: {
      run: success,
      steps: [step("extract", "success", { rows_out: 3 })],
      version: older,
    },
  });
  const d = diagnose(i);
  assertEquals(d.class, "schema_drift");
  assertEquals(d.suggestions, [
    { action: "fix_code", file: "p.ts", line: 5, column: 10 },
    { action: "rollback", to_version: 1 },
  ]);
  assertEquals(d.changed_since_success?.version, { failed: 2, success: 1, changed: true });
  assertEquals(d.changed_since_success?.code, { lines_added: 1, lines_removed: 1 });
  assertEquals(d.changed_since_success?.permissions, {
    added: { hosts: ["db.internal:5432"], secrets: [], connections: ["warehouse"], limits: {} },
    removed: { hosts: [], secrets: [], connections: [], limits: {} },
  });
  assertEquals(d.changed_since_success?.steps[0]?.rows_out, { failed: null, success: 3 });
  assert.ok(d.evidence.some((e) => e.ref === "error.details.code" && e.text === "42703"));
  assertCited(d.evidence, i);
});

Deno.test("diagnose: a driver error is located by its statement in the code", () => {
  const code =
    'const q = "x";\n  await db.extract({ query: "SELECT id, customer FROM orders" });\n';
  const d = diagnose(input({
    version: version(2, code),
    run: run({
      error: {
        kind: "exception",
        message: 'column "customer" does not exist',
        details: {
          source: "postgres",
          code: "42703",
          statement: "SELECT id, customer FROM orders",
        },
      },
    }),
  }));
  assertEquals(d.location, { file: "p.ts", line: 2, column: 30 });
  assertEquals(d.suggestions, [{ action: "fix_code", file: "p.ts", line: 2, column: 30 }]);
});

Deno.test("diagnose: transient classes suggest a retry", () => {
  const d = diagnose(input({
    run: run({
      error: {
        kind: "exception",
        message: "fetch failed",
        details: { source: "fetch", code: "ECONNREFUSED", target: "127.0.0.1:2" },
      },
    }),
  }));
  assertEquals(d.class, "connection");
  assertEquals(d.suggestions, [{ action: "retry" }]);
  assert.ok(d.summary.startsWith("Could not connect to 127.0.0.1:2 (ECONNREFUSED)"));
});

Deno.test("diagnose: a skipped downstream points at its upstream", () => {
  const error = {
    kind: "upstream_failed" as const,
    message: "Skipped: upstream extract ended failed (run r_up)",
  };
  const upstream = run({
    run_id: "r_up",
    pipeline: "extract",
    error: { kind: "exception", message: "boom" },
  });
  const d = diagnose(
    input({ run: run({ status: "skipped", error }), upstreamFailures: [upstream] }),
  );
  assertEquals(d.class, "upstream_failed");
  assertEquals(d.suggestions, [{ action: "fix_upstream", pipeline: "extract", run_id: "r_up" }]);
  assert.ok(d.evidence.some((e) => e.ref === "run:r_up.error.message" && e.text === "boom"));
});

Deno.test("diagnose: trouble in the logs is quoted, at most five lines", () => {
  const logs = [
    log(0, "info", "fine"),
    ...Array.from({ length: 7 }, (_, n) => log(n + 1, "error", `bad ${n}`)),
  ];
  const d = diagnose(input({ run: run({ error: { kind: "exception", message: "boom" } }), logs }));
  const quoted = d.evidence.filter((e) => e.source === "log").map((e) => e.text);
  assertEquals(quoted, ["bad 2", "bad 3", "bad 4", "bad 5", "bad 6"]);
});
