import { assert, assertEquals } from "../../tests/helpers/assert.ts";
import { effectiveMetadata, validatePipelineConfig } from "./schema.ts";

function issuesOf(raw: unknown) {
  const result = validatePipelineConfig(raw);
  assert.ok(!result.ok, "expected validation to fail");
  return result.issues;
}

Deno.test("a minimal config gets defaults in snake_case", () => {
  const result = validatePipelineConfig({ name: "etl_orders" });
  assert.ok(result.ok);
  assertEquals(result.metadata, {
    name: "etl_orders",
    description: null,
    schedule: null,
    every: null,
    depends_on: [],
    connections: [],
    secrets: [],
    net: [],
    timezone: null,
    catchup: "latest",
    overlap: "skip",
    concurrency: null,
    // Undeclared limits stay null: the daemon's [scheduler] defaults apply at run time.
    retries: null,
    retry_delay_ms: null,
    timeout_ms: null,
    tags: [],
    pool: null,
    limits: {
      heap_mb: null,
      memory_mb: null,
      cpu_s: null,
      disk_mb: null,
      output_mb: null,
      request_mb: null,
      events: null,
    },
    heal: null,
  });
  assertEquals(
    [effectiveMetadata(result.metadata).retries, effectiveMetadata(result.metadata).timeout_ms],
    [0, 3_600_000],
  );
});

Deno.test("limits are validated, strict, and stored snake_case", () => {
  const result = validatePipelineConfig({
    name: "p",
    limits: { memoryMb: 256, cpuSeconds: 30, outputMb: 5, requestMb: 64 },
  });
  assert.ok(result.ok);
  assertEquals(result.metadata.limits, {
    heap_mb: null,
    memory_mb: 256,
    cpu_s: 30,
    disk_mb: null,
    output_mb: 5,
    request_mb: 64,
    events: null,
  });
  assertEquals(issuesOf({ name: "p", limits: { memory: 256 } })[0]?.field, "limits");
  assertEquals(issuesOf({ name: "p", limits: { memoryMb: 1 } })[0]?.field, "limits.memoryMb");
});

Deno.test("heal is off, diagnose or auto", () => {
  const result = validatePipelineConfig({ name: "p", heal: "off" });
  assert.ok(result.ok);
  assertEquals(result.metadata.heal, "off");
  assertEquals(issuesOf({ name: "p", heal: "fix" })[0]?.field, "heal");
});

Deno.test("scheduling fields are validated", () => {
  const bad = (config: Record<string, unknown>) => {
    const result = validatePipelineConfig({ name: "p", ...config });
    assert.ok(!result.ok);
    return result.issues.map((i) => `${i.field}: ${i.message}`).join("; ");
  };
  assert.ok(bad({ timezone: "Mars/Base" }).startsWith("timezone: unknown time zone"));
  assert.ok(bad({ catchup: "some" }).startsWith("catchup:"));
  assert.ok(bad({ overlap: "merge" }).startsWith("overlap:"));
  assert.ok(bad({ concurrency: 0 }).startsWith("concurrency:"));
  assert.ok(bad({ schedule: "0 0 30 2 *" }).includes("never fires"));
  assert.ok(bad({ schedule: "* * * * * * *" }).startsWith("schedule: invalid cron expression"));
});

Deno.test("a full config is converted", () => {
  const result = validatePipelineConfig({
    name: "etl",
    description: "d",
    schedule: "0 6 * * *",
    dependsOn: ["a", "b"],
    connections: ["warehouse"],
    secrets: ["STRIPE_KEY"],
    net: ["api.stripe.com", "db.internal:5432", "[::1]:80"],
    retries: 2,
    retryDelay: "500ms",
    timeout: "10m",
    tags: ["x"],
  });
  assert.ok(result.ok);
  assertEquals(result.metadata.timeout_ms, 600_000);
  assertEquals(result.metadata.retry_delay_ms, 500);
  assertEquals(result.metadata.depends_on, ["a", "b"]);
  assertEquals(result.metadata.net, ["api.stripe.com", "db.internal:5432", "[::1]:80"]);
});

Deno.test("errors name the field", () => {
  assertEquals(issuesOf({ name: "x", schedule: "61 * * * *" })[0]?.field, "schedule");
  assertEquals(issuesOf({ name: "x", timeout: "ten minutes" })[0]?.field, "timeout");
  assertEquals(issuesOf({ name: "x", retries: -1 })[0]?.field, "retries");
  assertEquals(issuesOf({ name: "1bad" })[0]?.field, "name");
  assertEquals(issuesOf({ name: "x", net: ["https://evil.example/x"] })[0]?.field, "net.0");
  assertEquals(issuesOf({ name: "x", net: ["*.example.com"] })[0]?.field, "net.0");
  assertEquals(issuesOf({ name: "x", secrets: ["A", "A"] })[0]?.field, "secrets");
  assertEquals(issuesOf({ name: "x", schedule: "* * * * *", every: 5 })[0]?.field, "schedule");
});

Deno.test("unknown keys are refused, naming the key", () => {
  const issues = issuesOf({ name: "x", secret: ["A"] });
  assert.ok(issues.some((i) => i.message.includes("secret")), JSON.stringify(issues));
});

Deno.test("reserved environment names cannot be declared as secrets", () => {
  for (const name of ["TAU_API_KEY", "DENO_DIR", "HOME", "PATH", "TMPDIR", "deno_dir"]) {
    assertEquals(issuesOf({ name: "x", secrets: [name] })[0]?.field, "secrets.0", name);
  }
});

Deno.test("durations accept numbers of seconds and unit strings", () => {
  for (
    const [value, ms] of [[30, 30_000], ["30s", 30_000], ["2h", 7_200_000], ["250ms", 250], [
      "1d",
      86_400_000,
    ]] as const
  ) {
    const result = validatePipelineConfig({ name: "x", timeout: value });
    assert.ok(result.ok);
    assertEquals(result.metadata.timeout_ms, ms);
  }
});

Deno.test("a config that is not an object is refused", () => {
  assertEquals(issuesOf("nope")[0]?.field, "(config)");
  assertEquals(issuesOf(null)[0]?.field, "(config)");
});
