/**
 * Issue 14 item 2 end to end: real pipelines fail for each class of cause, and `tau heal`
 * classifies them, points at the step and line, quotes its evidence verbatim from the stored
 * records, and suggests the exact next action. One daemon runs them all.
 */
import pg from "postgres";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { FIXTURES, startDaemon, type TestDaemon } from "../helpers/daemon.ts";

const TABLE = "tau_diag_orders";

interface Evidence {
  source: string;
  ref: string;
  text: string;
}

/** The value at a dotted path of a record. */
function at(record: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>(
    (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
    record,
  );
}

const asText = (v: unknown) => typeof v === "string" ? v : JSON.stringify(v);

/**
 * Each evidence item is found, verbatim, in the record it names: the run's error fields, its
 * log lines and steps (`tau inspect`), the run record, and the code of the version it ran.
 */
async function assertQuoted(d: TestDaemon, name: string, runId: string, evidence: Evidence[]) {
  assert.ok(evidence.length > 0, "a diagnosis always cites evidence");
  const record = (await d.tau("inspect", name, "--run", runId)).json;
  for (const e of evidence) {
    const why = `${e.source} ${e.ref}: ${e.text}`;
    if (e.source === "error") assertEquals(asText(at(record.error, e.ref.slice(6))), e.text, why);
    if (e.source === "log") {
      const seq = Number(/^log#(\d+)/.exec(e.ref)?.[1]);
      const log = record.logs.find((l: { seq: number }) => l.seq === seq);
      assertEquals(log?.message, e.text, why);
    }
    if (e.source === "step") {
      const [, step, field] = /^step:(.+)#\d+ \(attempt \d+\)\.(.+)$/.exec(e.ref) ?? [];
      const s = record.steps.find((s: { name: string }) => s.name === step);
      assertEquals(asText(at(s, field!)), e.text, why);
    }
    if (e.source === "run") {
      const [, id, field] = /^run:([^.]+)\.(.+)$/.exec(e.ref) ?? [];
      const run = id === runId ? record : await runRecord(d, id!);
      assertEquals(asText(at(run, field!)), e.text, why);
    }
    if (e.source === "version") {
      const [, version, line] = /^v(\d+):[^:]+:(\d+)$/.exec(e.ref) ?? [];
      const code = (await d.tau("code", name, "--version", version!)).json.code as string;
      assertEquals(code.split("\n")[Number(line) - 1], e.text, why);
    }
  }
}

/** Any run's record, whatever its pipeline. */
async function runRecord(d: TestDaemon, runId: string) {
  const res = await fetch(`http://127.0.0.1:${d.port}/api/v1/runs/${runId}`, {
    headers: { authorization: `Bearer ${(await Deno.readTextFile(`${d.home}/api_key`)).trim()}` },
  });
  return await res.json();
}

async function failed(d: TestDaemon, name: string, params?: object) {
  const args = params ? ["--params", JSON.stringify(params)] : [];
  const run = await d.tau("run", name, ...args);
  assert.ok(run.json.status !== "success", `${name} should fail: ${run.stdout}`);
  return run.json;
}

/** Runs, diagnoses with `tau heal NAME`, checks the evidence, and returns the report. */
async function heal(d: TestDaemon, name: string, params?: object) {
  const run = await failed(d, name, params);
  const report = await d.tau("heal", name);
  assertEquals(report.code, 0, report.stdout);
  assertEquals(report.json.run_id, run.run_id);
  assertEquals(report.json.pipeline, name);
  await assertQuoted(d, name, run.run_id, report.json.diagnosis.evidence);
  return report.json.diagnosis;
}

Deno.test("tau heal: a diagnosis per class, from real failing pipelines", async (t) => {
  const lake = await Deno.makeTempDir({ prefix: "tau_diag_" });
  const config = `
[connections.pg]
type = "postgres"
dsn = "postgres://postgres@127.0.0.1:5432/test"

[connections.warehouse]
type = "duckdb"
path = "${lake}/warehouse.duckdb"
`;
  const sql = pg({ host: "127.0.0.1", user: "postgres", database: "test", onnotice: () => {} });
  await sql.unsafe(`DROP TABLE IF EXISTS ${TABLE}`);
  await sql.unsafe(
    `CREATE TABLE ${TABLE} (id INT, customer TEXT); INSERT INTO ${TABLE} VALUES (1, 'ann')`,
  );
  const d = await startDaemon({}, { config });
  let succeeded = "";
  try {
    // diag_down depends on diag_up: the upstream is deployed first, the rest together.
    await d.deploy("diagnosis/diag_up.ts");
    await d.deployAll(
      ["net", "secret", "timeout", "memory", "pg_drift", "duck_drift", "dupes", "type", "down"]
        .map((f) => `diagnosis/diag_${f}.ts`),
    );

    await t.step(
      "undeclared host: permission_denied, declare_net with the exact host:port",
      async () => {
        const dx = await heal(d, "diag_net");
        assertEquals(dx.class, "permission_denied");
        assertEquals(dx.step, "extract");
        assertEquals(dx.location, { file: "diag_net.ts", line: 6, column: 23 });
        assertMatch(
          dx.excerpt,
          /> 6 \| {5}const res = await fetch\("https:\/\/api\.example\.com\/orders"\);/,
        );
        assertEquals(dx.suggestions, [{ action: "declare_net", host: "api.example.com:443" }]);
        assert.ok(
          dx.evidence.some((e: Evidence) =>
            e.ref === "error.target" && e.text === "api.example.com:443"
          ),
        );
      },
    );

    await t.step("unset secret: secret_missing, set_secret", async () => {
      const dx = await heal(d, "diag_secret");
      assertEquals(dx.class, "secret_missing");
      assertEquals(dx.suggestions, [{ action: "set_secret", name: "DIAG_UNSET_TOKEN" }]);
      assertEquals(dx.location?.line, 5);
    });

    await t.step(
      "an exception in a new version: code_bug at its line, and a rollback",
      async () => {
        await d.tau("deploy", `${FIXTURES}diagnosis/diag_bug_v1.ts`);
        const ok = await d.tau("run", "diag_bug");
        assertEquals(ok.json.status, "success", ok.stdout);
        const v2 = await d.tau("deploy", `${FIXTURES}diagnosis/diag_bug.ts`, "--force");
        assertEquals(v2.json.version, 2, v2.stdout);
        const dx = await heal(d, "diag_bug");
        assertEquals(dx.class, "code_bug");
        assertEquals(dx.step, "transform");
        assertEquals(dx.location, { file: "diag_bug.ts", line: 8, column: 30 });
        assertMatch(dx.summary, /order 7 has no customer/);
        assertEquals(dx.suggestions, [
          { action: "fix_code", file: "diag_bug.ts", line: 8, column: 30 },
          { action: "rollback", to_version: 1 },
        ]);
        assertEquals(dx.changed_since_success.version, { failed: 2, success: 1, changed: true });
        assert.ok(dx.changed_since_success.code.lines_added > 0);
        assertEquals(dx.changed_since_success.steps[0].step, "transform");
        assert.ok(
          dx.evidence.some((e: Evidence) => e.source === "version" && e.ref === "v2:diag_bug.ts:8"),
        );
        // Stored with the run, and shown by tau inspect.
        const inspected = await d.tau("inspect", "diag_bug");
        assertEquals(inspected.json.diagnosis, dx);
      },
    );

    await t.step("timeout: raise_timeout from the current limit", async () => {
      const dx = await heal(d, "diag_timeout");
      assertEquals(dx.class, "timeout");
      assertEquals(dx.step, "wait");
      assertEquals(dx.suggestions, [{
        action: "raise_timeout",
        current_ms: 2000,
        suggested_ms: 4000,
      }]);
    });

    await t.step("memory limit: resource_limit, raise_limit memoryMb", async () => {
      const dx = await heal(d, "diag_memory");
      assertEquals(dx.class, "resource_limit");
      assertEquals(dx.suggestions, [{
        action: "raise_limit",
        limit: "memoryMb",
        current: 256,
        suggested: 512,
      }]);
    });

    await t.step("a dropped column on PostgreSQL: schema_drift (SQLSTATE 42703)", async () => {
      const ok = await d.tau("run", "diag_pg_drift");
      assertEquals(ok.json.status, "success", ok.stdout);
      succeeded = ok.json.run_id;
      await sql.unsafe(`ALTER TABLE ${TABLE} DROP COLUMN customer`);
      const dx = await heal(d, "diag_pg_drift");
      assertEquals(dx.class, "schema_drift");
      assertEquals(dx.step, "extract");
      assert.ok(
        dx.evidence.some((e: Evidence) => e.ref === "error.details.code" && e.text === "42703"),
      );
      assert.ok(
        dx.evidence.some((e: Evidence) =>
          e.ref === "error.details.column" && e.text === "customer"
        ),
      );
      assertEquals(dx.changed_since_success.version.changed, false);
      // The driver's stack has no frame in the file: the statement is found in the code.
      assertEquals(dx.location, { file: "diag_pg_drift.ts", line: 7, column: 26 });
      assertEquals(dx.suggestions, [{ action: "fix_code", ...dx.location }]);
      assert.ok(!dx.suggestions.some((s: { action: string }) => s.action === "rollback"));
    });

    await t.step("a dropped column in the DuckDB warehouse: schema_drift (Binder)", async () => {
      assertEquals((await d.tau("run", "diag_duck_drift")).json.status, "success");
      const dx = await heal(d, "diag_duck_drift", { drop: true });
      assertEquals(dx.class, "schema_drift");
      assertEquals(dx.step, "extract");
      assert.ok(
        dx.evidence.some((e: Evidence) => e.ref === "error.details.code" && e.text === "Binder"),
      );
      assertEquals(dx.changed_since_success.params, {
        failed: { drop: true },
        success: {},
        changed: true,
      });
    });

    await t.step("duplicate merge keys: data_quality", async () => {
      const dx = await heal(d, "diag_dupes");
      assertEquals(dx.class, "data_quality");
      assertEquals(dx.step, "load");
      assertMatch(dx.summary, /more than one row has id=2/);
    });

    await t.step("a type error at run time: syntax_or_type at its line", async () => {
      const dx = await heal(d, "diag_type");
      assertEquals(dx.class, "syntax_or_type");
      assertEquals(dx.location?.line, 7);
      assert.ok(
        dx.evidence.some((e: Evidence) =>
          e.ref === "error.stack" && e.text.startsWith("TypeError")
        ),
      );
      assertEquals(dx.suggestions[0], { action: "fix_code", ...dx.location });
      assertEquals((await d.tau("inspect", "diag_type")).json.diagnosis, null, "heal: off");
    });

    await t.step("an upstream failure: the skipped downstream points at it", async () => {
      const up = await d.tau("run", "diag_up", "--downstream");
      const down = up.json.runs.find((r: { pipeline: string }) => r.pipeline === "diag_down");
      assertEquals(down.status, "skipped");
      const report = await d.tau("heal", "diag_down", "--run", down.run_id);
      const dx = report.json.diagnosis;
      assertEquals(dx.class, "upstream_failed");
      assertEquals(dx.suggestions, [{
        action: "fix_upstream",
        pipeline: "diag_up",
        run_id: up.json.run_id,
      }]);
      await assertQuoted(d, "diag_down", down.run_id, dx.evidence);
      // The upstream's own diagnosis was stored; a skipped run's is made on demand only.
      assertEquals((await d.tau("inspect", "diag_up")).json.diagnosis.class, "code_bug");
      assertEquals((await d.tau("inspect", "diag_down")).json.diagnosis, null);
    });

    await t.step("errors: a run that succeeded, an unknown run", async () => {
      const ok = await d.tau("heal", "diag_pg_drift", "--run", succeeded);
      assertEquals(ok.code, 1);
      assertEquals(ok.json.error.code, "conflict");
      const wrong = await d.tau("heal", "diag_net", "--run", "run_nope");
      assertEquals(wrong.code, 1);
      assertEquals(wrong.json.error.code, "not_found");
      assertMatch(wrong.json.error.hint, /tau runs diag_net/);
    });
  } finally {
    await d.stop();
    await sql.unsafe(`DROP TABLE IF EXISTS ${TABLE}`);
    await sql.end();
    await Deno.remove(lake, { recursive: true });
  }
});
