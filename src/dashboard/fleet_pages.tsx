/**
 * The pages about everything but one pipeline: the workers, the named connections (what runs
 * may reach, never a credential) and the recent errors across pipelines.
 */
import { Hono } from "hono";
import { workerView } from "../api/workers.ts";
import { publicView } from "../connections/registry.ts";
import { DEFAULT_LEASE_MS } from "../runner/options.ts";
import type { ErrorRun } from "../store/mod.ts";
import { type DashboardDeps, type Env, page, sessionOf } from "./context.ts";
import { Layout, Status, when } from "./layout.tsx";
import type { Session } from "./sessions.ts";

/** Errors on the errors page. */
export const ERRORS_SHOWN = 100;

export function fleetPages(deps: DashboardDeps): Hono<Env> {
  const app = new Hono<Env>();

  app.get("/workers", async (c) => {
    const now = Date.now();
    const workers = (await deps.store.listWorkers())
      .map((w) => workerView(w, now, deps.leaseMs ?? DEFAULT_LEASE_MS));
    return page(c, <WorkersPage session={sessionOf(c)} workers={workers} />);
  });

  app.get("/connections", (c) => {
    const connections = [...deps.connections.values()].map(publicView);
    return page(
      c,
      <ConnectionsPage
        session={sessionOf(c)}
        connections={connections}
        file={deps.connections.file ?? null}
      />,
    );
  });

  app.get("/errors", async (c) => {
    const unresolved = c.req.query("unresolved") === "true";
    const errors = await deps.store.listErrors({ limit: ERRORS_SHOWN, unresolved });
    return page(c, <ErrorsPage session={sessionOf(c)} errors={errors} unresolved={unresolved} />);
  });

  return app;
}

function WorkersPage(props: { session: Session; workers: ReturnType<typeof workerView>[] }) {
  return (
    <Layout title="Workers" session={props.session}>
      <h1>Workers</h1>
      {props.workers.length === 0
        ? <p class="empty">No worker has registered (a daemon with the worker role does).</p>
        : (
          <table class="workers listing">
            <thead>
              <tr>
                <th>Worker</th>
                <th>Status</th>
                <th>Host</th>
                <th>Roles</th>
                <th>Tags</th>
                <th>Load</th>
                <th>Last heartbeat</th>
              </tr>
            </thead>
            <tbody>
              {props.workers.map((w) => (
                <tr data-worker={w.id}>
                  <td>{w.id}</td>
                  <td>
                    <Status status={w.status} />
                  </td>
                  <td>{w.host}</td>
                  <td>{w.roles.join(", ")}</td>
                  <td>{w.tags.join(", ") || "—"}</td>
                  <td>{w.load} / {w.capacity}</td>
                  <td>{when(w.heartbeat_at)} ({Math.round(w.heartbeat_age_ms / 1000)} s ago)</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}

function ConnectionsPage(props: {
  session: Session;
  connections: ReturnType<typeof publicView>[];
  file: string | null;
}) {
  return (
    <Layout title="Connections" session={props.session}>
      <h1>Connections</h1>
      <p class="muted">
        Declared in{" "}
        {props.file ?? "tau.toml"}. Credentials are never shown here; a pipeline that declares a
        connection may reach its hosts and nothing else.
      </p>
      {props.connections.length === 0
        ? <p class="empty">No connection is configured: add a [connections.NAME] table.</p>
        : (
          <table class="connections listing">
            <thead>
              <tr>
                <th>Name</th>
                <th>Type</th>
                <th>Hosts a run may reach</th>
                <th>Runs on</th>
              </tr>
            </thead>
            <tbody>
              {props.connections.map((c) => (
                <tr data-connection={c.name}>
                  <td>{c.name}</td>
                  <td>{c.type}</td>
                  <td>{c.hosts.length > 0 ? c.hosts.join(", ") : "—"}</td>
                  <td>{c.trusted_side ? "the daemon (for the run)" : "the run"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}

function ErrorsPage(props: { session: Session; errors: ErrorRun[]; unresolved: boolean }) {
  return (
    <Layout title="Errors" session={props.session}>
      <h1>Errors</h1>
      <p class="pager">
        {props.unresolved
          ? <a href="/errors">Show all</a>
          : <a href="/errors?unresolved=true">Only unresolved</a>}
        <span class="muted">The newest {ERRORS_SHOWN} failed or timed-out runs.</span>
      </p>
      {props.errors.length === 0
        ? <p class="empty">No {props.unresolved ? "unresolved " : ""}errors.</p>
        : (
          <table class="errors listing">
            <thead>
              <tr>
                <th>Run</th>
                <th>Pipeline</th>
                <th>Status</th>
                <th>Error</th>
                <th>Finished</th>
                <th>Resolved</th>
              </tr>
            </thead>
            <tbody>
              {props.errors.map((run) => (
                <tr data-run-id={run.run_id}>
                  <td>
                    <a href={`/runs/${encodeURIComponent(run.run_id)}`}>{run.run_id}</a>
                  </td>
                  <td>
                    <a href={`/pipelines/${encodeURIComponent(run.pipeline)}`}>{run.pipeline}</a>
                    {" "}
                    <span class="version">v{run.version}</span>
                  </td>
                  <td>
                    <Status status={run.status} />
                  </td>
                  <td class="error-cell">
                    {run.error ? `${run.error.kind}: ${run.error.message.slice(0, 300)}` : ""}
                  </td>
                  <td>{when(run.finished_at)}</td>
                  <td>{run.resolved ? "yes, a later run succeeded" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
    </Layout>
  );
}
