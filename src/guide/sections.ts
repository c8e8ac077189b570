/**
 * The guide's hand-written prose: how the loop goes, and the parts no doc comment holds
 * (scheduling, the sandbox). Everything listed elsewhere in the guide (commands, config keys,
 * `ctx` members, error codes and kinds) is rendered from the code, not repeated here.
 */

export const TITLE = "# Tau: the guide for agents";

export const INTRO = `Tau runs data pipelines that you write as TypeScript files. The daemon
(\`taud\`) stores each deployed version, schedules runs and runs each one in a sandbox that
allows only what the file declares. You drive it with the \`tau\` CLI: every command prints one JSON
document (this guide is the exception), and exits 1 when something went wrong, with
\`{"error": {"code", "message", "hint"}}\`. Read the document, then act on it; \`hint\` names the
next command to run.`;

export const LOOP = `## The loop

1. **Write** a pipeline file (\`tau init DIR\` makes a folder where editors and \`deno check\`
   resolve \`tau\`). Declare everything the run will touch: hosts, secrets, connections.
2. **Check**: \`tau check FILE\` runs every deploy check (types, imports, config, connections,
   schedule) and stores nothing. Repeat until it prints \`"ok": true\`.
3. **Deploy**: \`tau deploy FILE\` stores a new version. \`tau show NAME\` prints the exact
   permissions its runs get.
4. **Run**: \`tau run NAME --params '{…}'\` waits for the run and prints its record; exit 1 when
   it did not succeed.
5. **Look**: \`tau inspect NAME --last-run --brief\` (status, error \`kind\`, \`location\`,
   \`hint\`, one line per step), \`tau logs NAME\`, and \`tau heal NAME\`: a diagnosis of the
   failed run (class, step, line, quoted evidence and \`suggestions\` such as \`declare_net\`,
   \`raise_timeout\`, \`fix_code\`, \`rollback\`), made without a model.
6. **Fix** the file, then check, deploy and run it again.

When tau.toml has \`[ai]\`, \`tau heal NAME --auto\` does steps 5 and 6 itself: the model proposes
a file, Tau checks it and replays the failed run with it (against the real targets), and promotes
the first candidate that succeeds. \`tau create "INTENT"\` writes a new file the same way. Every
deploy, heal and rollback is a version: \`tau versions NAME\` lists them, \`tau diff NAME A B\`
compares two (code and permissions), \`tau rollback NAME --to V\` makes an earlier one current
again.`;

export const PIPELINE_INTRO = `## The pipeline file

One file, one pipeline: its default export is \`pipeline(config, fn)\`. Tau reads the config at
deploy (unknown keys are refused); \`fn\` receives \`ctx\` and its return value (plain JSON: a
summary, not the data) becomes the run's \`result\`. What follows is the SDK's own documentation.`;

export const CONNECTIONS_INTRO = `## Connections

A named connection is defined in the daemon's tau.toml (\`tau connections\` lists them,
\`tau connections --test NAME\` tries one; every daemon has \`warehouse\`, an embedded DuckDB,
unless tau.toml defines its own). Declare it in \`connections\` and open it with
\`await using db = await ctx.connection("NAME")\`: the run gets its host and credentials, the file
never holds them. An inline connector from \`tau/connectors\` needs its host in \`net\` and its
credentials from \`secrets\`. Either way you get a \`Connector\` (below).`;

export const MATERIALIZATIONS_INTRO = `## Materializations

\`ctx.materialize(config, { connection })\` builds \`targetTable\` from \`sourceQuery\` with a
strategy, writing the SQL for that connection's engine; the result says what changed.`;

export const SCHEDULING = `## Scheduling

Scheduling lives in the config, like everything else a pipeline needs:

- \`schedule: "0 6 * * *"\`: a cron of 5 fields (6 with seconds), read in \`timezone\` (an IANA
  zone). Or \`every: 300\`: every 300 seconds. Neither: it runs only when asked (or triggered).
- \`dependsOn: ["extract"]\`: run after these pipelines succeed in the same logical run (one
  schedule instant, or \`tau run UPSTREAM --downstream\`). If an upstream fails, this run is
  recorded \`skipped\` with kind \`upstream_failed\`. Such a pipeline usually has no schedule.
- \`catchup\` (ticks missed while the daemon was down), \`overlap\` (a tick while a run is still
  active), \`concurrency\`, \`retries\`, \`retryDelay\`, \`timeout\`: see the config keys above.
- \`tau schedule NAME ...\` and \`tau depends NAME --on ...\` change them without a redeploy; a
  later deploy only changes them again if the file's values changed. Each instant fires at most
  once, across restarts. \`tau list\` shows \`next_run_at\`, \`tau dag\` the graph.`;

export const SANDBOX = `## The sandbox: declare what a run needs

Each run is its own Deno process whose permissions are computed from the config alone. What is
not declared is refused at the moment it is tried: the run fails with kind \`permission_denied\`
(\`permission\` and \`target\` say what), \`undeclared_secret\` or \`undeclared_connection\`.

- **Network**: only the hosts in \`net\` (\`"api.example.com"\` means port 443;
  \`"db.internal:5432"\` names the port; no schemes, paths or wildcards) and the hosts of the
  declared \`connections\`. The daemon's own port and cloud metadata addresses stay closed even
  when declared.
- **Environment**: only the names in \`secrets\`, read with \`ctx.secret("NAME")\`. The value comes
  from taud's environment (missing: \`secret_not_set\`) and is redacted from everything stored.
- **Connections**: the names in \`connections\`, each one a tau.toml entry; declaring it is the
  grant.
- **Files**: read and write only in the run's scratch folder (its working directory), deleted
  when the run ends. Imports: only the SDK (\`tau\`, \`tau/…\`), \`node:\` built-ins and the
  approved npm drivers; any other file or URL is refused at deploy.
- **Processes**: never; \`Deno.Command\` fails with \`permission_denied\` (permission \`run\`).
- **Limits**: \`timeout\` and \`limits\` (see the config keys); unset ones come from tau.toml,
  and none may pass \`[sandbox.ceiling]\`. Passing one ends the run with that limit's kind.

\`\`\`ts
import { pipeline } from "tau";

export default pipeline({
  name: "users_sync",
  connections: ["warehouse"], // its host and credentials come with it
  net: ["api.example.com"], // port 443
  secrets: ["API_TOKEN"], // ctx.secret("API_TOKEN")
  limits: { memoryMb: 512 },
  timeout: "10m",
}, async (ctx) => {
  const res = await fetch("https://api.example.com/users", {
    headers: { authorization: \`Bearer \${ctx.secret("API_TOKEN")}\` },
    signal: ctx.signal,
  });
  const users = await res.json();
  await using db = await ctx.connection("warehouse");
  const loaded = await db.load(users, { table: "users", mode: "upsert", mergeKey: "id" });
  return { users: loaded.rows };
});
\`\`\`

\`tau show NAME\` prints the permission set before any run; each run record's \`access\` says what
the run used, and \`tau show\` warns about grants no recent run used.`;
