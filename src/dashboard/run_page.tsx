/**
 * The run page, logs first: `GET /runs/:id` (`?q=` searches the log messages), and
 * `GET /runs/:id/logs?after=SEQ`, the fragment its live follow polls (see run_logs.tsx).
 * Everything on it was written by the run's own code or comes from its records, so every value
 * goes through hono/jsx's escaping; nothing here renders raw HTML.
 */
import { Hono } from "hono";
import type { RunRecord } from "../store/mod.ts";
import { type DashboardDeps, type Env, page, sessionOf } from "./context.ts";
import { duration, Layout, when } from "./layout.tsx";
import type { Session } from "./sessions.ts";
import { PermissionsSection, SandboxSection } from "./run_access.tsx";
import {
  isFinished,
  loadRunPage,
  MAX_LOG_LINES,
  MAX_QUERY_CHARS,
  runOrNotFound,
  type RunPageData,
} from "./run_data.ts";
import { FollowFragment, LogsSection, RunEnded, RunStatus } from "./run_logs.tsx";
import { DiagnosisSection, ErrorSection, JsonBlock, StepsSection } from "./run_sections.tsx";

export { RUN_CSS } from "./run_style.ts";

/** How long the run has taken: its duration, else the time since it started. */
function took(run: RunRecord, now: number): string {
  if (run.duration_ms !== null) return duration(run.duration_ms);
  if (!run.started_at || isFinished(run)) return "—";
  return `${duration(now - Date.parse(run.started_at))} so far`;
}

function Summary(props: { run: RunRecord; now: number }) {
  const { run, now } = props;
  const item = (label: string, value: unknown) => (
    <div>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
  return (
    <dl class="run-summary">
      {item("Status", <RunStatus run={run} />)}
      {item(
        "Pipeline",
        <a class="pipeline-link" href={`/pipelines/${encodeURIComponent(run.pipeline)}`}>
          {run.pipeline}
        </a>,
      )}
      {item("Version", <span class="version">v{run.version}</span>)}
      {item("Trigger", <span class="trigger">{run.trigger}</span>)}
      {item("Attempt", `${run.attempt} of ${run.max_attempts}`)}
      {item("Duration", <span class="duration">{took(run, now)}</span>)}
      {item("Created", when(run.created_at))}
      {item("Started", when(run.started_at))}
      {item("Finished", when(run.finished_at))}
      {run.scheduled_at && item("Scheduled for", when(run.scheduled_at))}
      {run.worker_id && item("Worker", run.worker_id)}
    </dl>
  );
}

function RunPage(props: { session: Session; data: RunPageData; now: number }) {
  const { run, logs, error, diagnosis, heals } = props.data;
  return (
    <Layout title={`Run ${run.run_id}`} session={props.session}>
      <p class="crumbs">
        <a href={`/pipelines/${encodeURIComponent(run.pipeline)}`}>← {run.pipeline}</a>
      </p>
      <h1>
        Run <span class="run-id">{run.run_id}</span>
      </h1>
      <Summary run={run} now={props.now} />
      {!isFinished(run) && <RunEnded run={null} />}
      <LogsSection run={run} logs={logs} />
      {error && <ErrorSection view={error} />}
      {(diagnosis || heals.length > 0) && (
        <DiagnosisSection diagnosis={diagnosis} heals={heals} pipeline={run.pipeline} />
      )}
      <StepsSection run={run} steps={props.data.steps} now={props.now} />
      <section id="data">
        <h2>Params</h2>
        <JsonBlock value={run.params} class="params" />
        <h2>Result</h2>
        <JsonBlock value={run.result} class="result" />
      </section>
      <PermissionsSection run={run} connections={props.data.connections} />
      <SandboxSection run={run} />
    </Layout>
  );
}

/** `after`: absent (from the first line) or a log line's seq; null when malformed. */
function afterParam(raw: string | undefined): number | null | undefined {
  if (raw === undefined) return undefined;
  return /^\d{1,15}$/.test(raw) ? Number(raw) : null;
}

export function runPages(deps: DashboardDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get("/runs/:id", async (c) => {
    const q = (c.req.query("q") ?? "").trim().slice(0, MAX_QUERY_CHARS);
    const data = await loadRunPage(deps.store, c.req.param("id"), q || null);
    return page(c, <RunPage session={sessionOf(c)} data={data} now={Date.now()} />);
  });

  app.get("/runs/:id/logs", async (c) => {
    const after = afterParam(c.req.query("after"));
    if (after === null) {
      return c.text("?after must be an integer of 0 or more: the seq of the last line shown", 400);
    }
    // The run before its lines: a run read as ended has stored every line it will have.
    const run = await runOrNotFound(deps.store, c.req.param("id"));
    const lines = await deps.store.listLogs(run.run_id, {
      afterSeq: after ?? -1,
      limit: MAX_LOG_LINES,
    });
    return c.html(<FollowFragment run={run} lines={lines} after={after ?? null} />);
  });

  return app;
}
