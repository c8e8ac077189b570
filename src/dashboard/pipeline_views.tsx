/** The pipeline page and the version diff page (data from pipeline_page.tsx). */
import type { scheduleView } from "../api/graph.ts";
import type { PermissionDiff } from "../deploy/version_diff.ts";
import type { PipelineMetadata } from "../metadata/schema.ts";
import type { ShownPermissions } from "../runner/run_permissions.ts";
import type { PipelineRecord, PipelineVersion, RunRecord, RunStatus } from "../store/mod.ts";
import { may } from "./context.ts";
import { Csrf, duration, Layout, Status, when } from "./layout.tsx";
import type { Session } from "./sessions.ts";

export const RUN_STATUSES: readonly RunStatus[] = [
  "queued",
  "running",
  "success",
  "failed",
  "timed_out",
  "cancelled",
  "skipped",
];

const pipelineHref = (name: string) => `/pipelines/${encodeURIComponent(name)}`;
const runHref = (id: string) => `/runs/${encodeURIComponent(id)}`;

function Names(props: { names: string[]; empty: string }) {
  if (props.names.length === 0) return <span class="muted">{props.empty}</span>;
  return (
    <span>
      {props.names.map((name) => <a class="chip" href={pipelineHref(name)}>{name}</a>)}
    </span>
  );
}

function Permissions(props: { permissions: ShownPermissions | null }) {
  const p = props.permissions;
  if (!p) return <p class="muted">No current version.</p>;
  const list = (items: string[]) => items.length > 0 ? items.join(", ") : "none";
  return (
    <dl class="facts permissions">
      <dt>Network</dt>
      <dd>{list(p.net)}</dd>
      <dt>Secrets (names)</dt>
      <dd>{list(p.env)}</dd>
      <dt>Read</dt>
      <dd>{list(p.read)}</dd>
      <dt>Write</dt>
      <dd>{list(p.write)}</dd>
      <dt>Never</dt>
      <dd>subprocesses, FFI, system information, imports beyond the approved drivers</dd>
      <dt>Limits</dt>
      <dd>
        {Object.entries(p.limits).map(([key, value]) => `${key} ${value}`).join(", ")}
      </dd>
    </dl>
  );
}

function RunsTable(props: {
  pipeline: string;
  runs: RunRecord[];
  more: boolean;
  status: RunStatus | null;
  paged: boolean;
}) {
  const base = pipelineHref(props.pipeline);
  const last = props.runs.at(-1);
  const filter = props.status ? `status=${props.status}&` : "";
  return (
    <section id="runs">
      <h2>Runs</h2>
      <form class="run-filter" method="get" action={base}>
        <label for="status">Status</label>
        <select id="status" name="status">
          <option value="">any</option>
          {RUN_STATUSES.map((s) => <option value={s} selected={s === props.status}>{s}</option>)}
        </select>
        <button type="submit">Filter</button>
      </form>
      {props.runs.length === 0
        ? <p class="empty">No {props.status ?? ""} runs{props.paged ? " on this page" : ""}.</p>
        : (
          <table class="runs">
            <thead>
              <tr>
                <th>Run</th>
                <th>Status</th>
                <th>Trigger</th>
                <th>Version</th>
                <th>Created</th>
                <th>Duration</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {props.runs.map((run) => (
                <tr data-run-id={run.run_id}>
                  <td>
                    <a href={runHref(run.run_id)}>{run.run_id}</a>
                  </td>
                  <td>
                    <Status status={run.status} />
                  </td>
                  <td>{run.trigger}</td>
                  <td>v{run.version}</td>
                  <td>{when(run.created_at)}</td>
                  <td>{duration(run.duration_ms)}</td>
                  <td class="error-cell">
                    {run.error ? `${run.error.kind}: ${run.error.message.slice(0, 200)}` : ""}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      <p class="pager">
        {props.paged && <a href={`${base}?${filter}`}>Newest runs</a>}
        {props.more && last && (
          <a class="next-page" href={`${base}?${filter}before=${encodeURIComponent(last.run_id)}`}>
            Older runs
          </a>
        )}
      </p>
    </section>
  );
}

function Versions(props: {
  session: Session;
  pipeline: PipelineRecord;
  versions: PipelineVersion[];
}) {
  const { pipeline, versions } = props;
  const operate = may(props.session, "operate");
  const action = `${pipelineHref(pipeline.name)}/rollback`;
  return (
    <section id="versions">
      <h2>Versions</h2>
      <table class="versions">
        <thead>
          <tr>
            <th>Version</th>
            <th>Source</th>
            <th>Created</th>
            <th>From</th>
            <th>Hash</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {versions.map((v) => (
            <tr
              data-version={v.version}
              class={v.version === pipeline.current_version ? "current" : ""}
            >
              <td>
                v{v.version}
                {v.version === pipeline.current_version && <span class="chip">current</span>}
                {v.promoted_at === null && <span class="chip muted">candidate</span>}
              </td>
              <td>{v.source}{v.heal_id && <span class="muted">{` (${v.heal_id})`}</span>}</td>
              <td>{when(v.created_at)}</td>
              <td>{v.parent ? `v${v.parent}` : "—"}</td>
              <td>
                <code>{v.hash.slice(0, 12)}</code>
              </td>
              <td>
                {operate && v.version !== pipeline.current_version && v.promoted_at !== null && (
                  <form class="rollback" method="post" action={action}>
                    <Csrf session={props.session} />
                    <input type="hidden" name="to" value={String(v.version)} />
                    <button class="rollback" type="submit">Roll back to v{v.version}</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {versions.length > 1 && (
        <form class="diff" method="get" action={`${pipelineHref(pipeline.name)}/diff`}>
          <label>
            Diff from <VersionSelect name="from" versions={versions} pick={versions[1]!.version} />
          </label>
          <label>
            to <VersionSelect name="to" versions={versions} pick={pipeline.current_version} />
          </label>
          <button type="submit">Compare</button>
        </form>
      )}
    </section>
  );
}

function VersionSelect(props: { name: string; versions: PipelineVersion[]; pick: number }) {
  return (
    <select name={props.name}>
      {props.versions.map((v) => (
        <option value={String(v.version)} selected={v.version === props.pick}>
          v{v.version}
        </option>
      ))}
    </select>
  );
}

export function PipelinePage(props: {
  session: Session;
  pipeline: PipelineRecord;
  metadata: PipelineMetadata;
  schedule: ReturnType<typeof scheduleView>;
  upstream: string[];
  downstream: string[];
  permissions: ShownPermissions | null;
  runs: RunRecord[];
  more: boolean;
  status: RunStatus | null;
  paged: boolean;
  versions: PipelineVersion[];
  notice?: string;
}) {
  const { pipeline: p, metadata: m, schedule } = props;
  return (
    <Layout title={p.name} session={props.session}>
      <h1>
        {p.name} <span class="version">v{p.current_version}</span>
      </h1>
      {props.notice && <p class="notice" role="status">Rolled back to v{props.notice}.</p>}
      {m.description && <p class="description">{m.description}</p>}
      {m.tags.length > 0 && (
        <div class="tags">{m.tags.map((tag) => <span class="tag">{tag}</span>)}</div>
      )}
      <dl class="facts">
        <dt>Schedule</dt>
        <dd>
          {schedule.schedule ?? (schedule.every_s ? `every ${schedule.every_s} s` : "none")}
          {schedule.timezone && ` (${schedule.timezone})`}
          {(schedule.schedule || schedule.every_s) && !schedule.enabled && " — paused"}
        </dd>
        <dt>Next run</dt>
        <dd>{when(schedule.next_run_at)}</dd>
        <dt>Upstream</dt>
        <dd>
          <Names names={props.upstream} empty="none" />
        </dd>
        <dt>Downstream</dt>
        <dd>
          <Names names={props.downstream} empty="none" />
        </dd>
        <dt>Connections</dt>
        <dd>{m.connections.length > 0 ? m.connections.join(", ") : "none"}</dd>
        <dt>Deployed</dt>
        <dd>{when(p.updated_at)}</dd>
      </dl>
      <RunsTable
        pipeline={p.name}
        runs={props.runs}
        more={props.more}
        status={props.status}
        paged={props.paged}
      />
      <section id="permissions">
        <h2>Permission set</h2>
        <Permissions permissions={props.permissions} />
      </section>
      <Versions session={props.session} pipeline={p} versions={props.versions} />
    </Layout>
  );
}

export function DiffPage(props: {
  session: Session;
  pipeline: string;
  from: number;
  to: number;
  diff: string;
  permissions: PermissionDiff;
}) {
  const { added, removed } = props.permissions;
  const changes = (c: typeof added) =>
    [
      ...c.hosts.map((h) => `host ${h}`),
      ...c.secrets.map((s) => `secret ${s}`),
      ...c.connections.map((n) => `connection ${n}`),
      ...Object.entries(c.limits).map(([k, v]) => `${k} ${v}`),
    ].join(", ") || "nothing";
  return (
    <Layout title={`${props.pipeline} v${props.from}→v${props.to}`} session={props.session}>
      <h1>
        <a href={pipelineHref(props.pipeline)}>{props.pipeline}</a>: v{props.from} → v{props.to}
      </h1>
      <dl class="facts">
        <dt>Grants added</dt>
        <dd class="added">{changes(added)}</dd>
        <dt>Grants removed</dt>
        <dd class="removed">{changes(removed)}</dd>
      </dl>
      <pre class="diff">{props.diff.split("\n").map((line) => (
        <span class={diffClass(line)}>{line + "\n"}</span>
      ))}</pre>
    </Layout>
  );
}

function diffClass(line: string): string {
  if (line.startsWith("+++") || line.startsWith("---")) return "diff-file";
  if (line.startsWith("+")) return "diff-add";
  if (line.startsWith("-")) return "diff-del";
  if (line.startsWith("@@")) return "diff-hunk";
  return "";
}

export const PIPELINE_CSS = `
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.3rem 1rem; background: #fff;
  padding: 0.8rem 1rem; border-radius: 0.4rem; }
dl.facts dt { color: #5b6573; }
dl.facts dd { margin: 0; }
.chip { display: inline-block; margin-right: 0.3rem; padding: 0 0.4rem; border-radius: 0.3rem;
  background: #e8ecf2; font-size: 0.85rem; }
.muted { color: #5b6573; }
table.runs, table.versions { width: 100%; border-collapse: collapse; background: #fff; }
table.runs td, table.runs th, table.versions td, table.versions th { text-align: left;
  padding: 0.35rem 0.5rem; border-bottom: 1px solid #e3e6ea; }
.error-cell { color: #b42318; font-size: 0.85rem; max-width: 28rem; overflow-wrap: anywhere; }
tr.current { background: #f0f7ff; }
.pager { display: flex; gap: 1rem; }
form.run-filter, form.diff { display: flex; gap: 0.5rem; align-items: center; margin: 0.5rem 0; }
form.rollback { margin: 0; }
.notice { background: #ecfdf3; padding: 0.5rem 0.8rem; border-radius: 0.3rem; }
pre.diff { background: #fff; padding: 0.8rem; overflow-x: auto; }
.diff-add { color: #067647; background: #ecfdf3; }
.diff-del { color: #b42318; background: #fef3f2; }
.diff-hunk { color: #5b6573; }
.diff-file { font-weight: 600; }
dd.added { color: #b42318; }
`;
