import { assertEquals } from "../../tests/helpers/assert.ts";
import { summarizeAudit, unusedGrants } from "./audit.ts";

const grants = {
  net: ["api.example.com:443", "db.internal:5432"],
  env: ["API_KEY", "UNUSED_KEY"],
  read: ["/runs/r-1/scratch"],
  write: ["/runs/r-1/scratch"],
};
const line = (permission: string, value: string | null) =>
  JSON.stringify({ v: 1, datetime: "2026-11-22T00:00:00Z", permission, value });

Deno.test("each declared grant is marked used or not from Deno's audit log", () => {
  const log = [
    line("env", "API_KEY"),
    line("net", "https://api.example.com/v1/users"),
    line("net", "api.example.com:443"),
    line("net", "93.184.216.34:443"), // the address the granted name resolved to
    line("write", "out.csv"), // relative to the scratch folder, its working directory
    line("read", "/etc/passwd"),
    line("net", "evil.example:443"),
    line("env", "PATH"),
    line("env", "PGAPPNAME"), // the drivers' own probes: Tau grants them, or expects the refusal
    line("env", "TZ"),
    line("run", "sh"),
    "{torn",
  ].join("\n");
  const access = summarizeAudit(
    log,
    grants,
    new Map([["warehouse", ["db.internal:5432"]], ["duck", []]]),
    new Set(["duck"]),
  );
  assertEquals(access, {
    audit: "complete",
    net: [
      { target: "api.example.com:443", used: true },
      { target: "db.internal:5432", used: false },
    ],
    env: [{ target: "API_KEY", used: true }, { target: "UNUSED_KEY", used: false }],
    read: [{ target: "/runs/r-1/scratch", used: false }],
    write: [{ target: "/runs/r-1/scratch", used: true }],
    connections: [{ name: "warehouse", used: false }, { name: "duck", used: true }],
    outside: [
      { permission: "read", target: "/etc/passwd" },
      { permission: "net", target: "evil.example:443" },
      { permission: "env", target: "PATH" },
      { permission: "run", target: "sh" },
    ],
  });
});

Deno.test("no log means the audit is unavailable, and nothing is claimed used", () => {
  const access = summarizeAudit(null, grants, new Map(), new Set());
  assertEquals(access.audit, "unavailable");
  assertEquals(access.net.every((g) => !g.used), true);
});

Deno.test("tau show warns about grants no recent complete run used", () => {
  const run = (usedKey: boolean) =>
    summarizeAudit(
      usedKey ? line("env", "API_KEY") : "",
      grants,
      new Map(),
      new Set(),
    );
  const warnings = unusedGrants([run(true), run(false), null, { audit: "unavailable" }]);
  assertEquals(warnings.map((w) => `${w.permission} ${w.target} ${w.runs}`), [
    "net api.example.com:443 2",
    "net db.internal:5432 2",
    "env UNUSED_KEY 2",
  ]);
  assertEquals(unusedGrants([null]), []);
});
