/**
 * The dashboard's pages, rendered on the server with hono/jsx: every value is escaped by the
 * renderer (names, descriptions, tags and run data are written by untrusted pipelines), and no
 * page has inline script or style (the Content-Security-Policy forbids both).
 */
import type { Session } from "./sessions.ts";
import type { PipelineRow } from "./overview.ts";
import { Layout, when } from "./layout.tsx";

export function LoginPage(props: { error?: string }) {
  return (
    <Layout title="Log in">
      <form method="post" action="/login" class="login">
        <h1>Log in</h1>
        <label for="key">API key</label>
        <input id="key" name="key" type="password" autocomplete="off" required autofocus />
        {props.error && <p class="error" role="alert">{props.error}</p>}
        <button type="submit">Log in</button>
        <p class="help">
          The local key is in <code>$TAU_HOME/api_key</code>; others come from{" "}
          <code>tau keys create</code>.
        </p>
      </form>
    </Layout>
  );
}

export function OverviewPage(props: { session: Session; rows: PipelineRow[] }) {
  return (
    <Layout title="Pipelines" session={props.session}>
      <h1>Pipelines</h1>
      {props.rows.length === 0
        ? (
          <p class="empty">
            No pipeline is deployed yet: <code>tau deploy pipeline.ts</code>.
          </p>
        )
        : (
          <table class="pipelines">
            <thead>
              <tr>
                <th>Pipeline</th>
                <th>Status</th>
                <th>Last run</th>
                <th>Next run</th>
                <th>Recent runs</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((row) => (
                <tr
                  class={`pipeline status-${row.status ?? "none"}`}
                  data-pipeline={row.name}
                >
                  <td>
                    <a class="name" href={`/pipelines/${encodeURIComponent(row.name)}`}>
                      {row.name}
                    </a>{" "}
                    <span class="version">v{row.version}</span>
                    {row.description && <div class="description">{row.description}</div>}
                    {row.tags.length > 0 && (
                      <div class="tags">
                        {row.tags.map((tag) => <span class="tag">{tag}</span>)}
                      </div>
                    )}
                  </td>
                  <td class="status">{row.status ?? "never run"}</td>
                  <td>{when(row.recent[0]?.created_at ?? null)}</td>
                  <td>
                    {when(row.next_run_at)}
                    {row.schedule && <div class="schedule">{row.schedule}</div>}
                  </td>
                  <td class="strip">
                    {row.recent.toReversed().map((run) => (
                      <span
                        class={`mark mark-${run.status}`}
                        title={`${run.run_id} ${run.status} ${when(run.created_at)}`}
                      />
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}
