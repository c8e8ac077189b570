/**
 * The run's permission manifest beside what it did with it: each declared grant used or unused
 * (from Deno's audit log, see sandbox/audit.ts), each check outside the grants denied; then the
 * sandbox it ran in. The manifest holds environment variable names only, never their values.
 * Both records are stored JSON, so they are read defensively (an old record may lack a field).
 */
import type { Json, RunRecord } from "../store/mod.ts";
import type { AccessRecord } from "../sandbox/audit.ts";
import { duration } from "./layout.tsx";

type Use = "used" | "unused" | "denied" | "unknown";

interface Row {
  permission: string;
  target: string;
  use: Use;
}

const KINDS = ["net", "env", "read", "write"] as const;

function record(value: Json | undefined): Record<string, Json> | null {
  return value && typeof value === "object" && !Array.isArray(value) ? value : null;
}

function strings(value: Json | undefined): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

function accessOf(run: RunRecord): AccessRecord | null {
  const access = record(run.access);
  return access && Array.isArray(access.net) ? access as unknown as AccessRecord : null;
}

/** One row per declared grant and per denied check (the run's own refusal among them). */
export function accessRows(run: RunRecord, connections: string[]): Row[] {
  const manifest = record(run.permissions);
  const access = accessOf(run);
  const rows: Row[] = [];
  for (const kind of KINDS) {
    const uses = new Map((access?.[kind] ?? []).map((g) => [g.target, g.used]));
    for (const target of strings(manifest?.[kind] ?? null)) {
      const used = uses.get(target);
      rows.push({
        permission: kind,
        target,
        use: used === undefined ? "unknown" : used ? "used" : "unused",
      });
    }
  }
  const reached = new Map((access?.connections ?? []).map((c) => [c.name, c.used]));
  for (const name of new Set([...connections, ...reached.keys()])) {
    const used = reached.get(name);
    rows.push({
      permission: "connection",
      target: name,
      use: used === undefined ? "unknown" : used ? "used" : "unused",
    });
  }
  const denied = (access?.outside ?? []).map((o) => ({ ...o }));
  const refused = run.error?.kind === "permission_denied" ? run.error : null;
  if (
    refused?.permission &&
    !denied.some((d) => d.permission === refused.permission && d.target === refused.target)
  ) {
    denied.push({ permission: refused.permission, target: refused.target ?? "" });
  }
  for (const d of denied) rows.push({ permission: d.permission, target: d.target, use: "denied" });
  return rows;
}

/** `timeout_ms` as a duration, other amounts with digit groups. */
function amount(name: string, value: number): string {
  return name.endsWith("_ms") ? duration(value) : value.toLocaleString("en-US");
}

const AUDIT_NOTE: Record<string, string> = {
  complete: "From the run's complete permission audit log.",
  truncated: "The audit log passed its size cap: a grant shown unused may have been used.",
  unavailable: "No audit log was written: what the run used is unknown.",
};

export function PermissionsSection(props: { run: RunRecord; connections: string[] }) {
  const { run } = props;
  const manifest = record(run.permissions);
  const access = accessOf(run);
  const rows = accessRows(run, props.connections);
  const limits = record(manifest?.limits ?? null);
  const denyNet = strings(manifest?.deny_net ?? null);
  const flags = strings(manifest?.flags ?? null);
  return (
    <section id="permissions">
      <h2>Permissions</h2>
      {!manifest && <p class="empty">This run has no permission record.</p>}
      <p class="audit">
        {access
          ? AUDIT_NOTE[access.audit] ?? ""
          : "No access record: the run did not get to start, or ran before access was recorded."}
      </p>
      {rows.length > 0 && (
        <table class="access">
          <thead>
            <tr>
              <th>Permission</th>
              <th>Granted to</th>
              <th>Access</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr
                class={`grant ${row.use}`}
                data-permission={row.permission}
                data-target={row.target}
              >
                <td>{row.permission}</td>
                <td>
                  <code>{row.target}</code>
                </td>
                <td class="use">{row.use === "unknown" ? "—" : row.use}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {manifest && rows.length === 0 && (
        <p class="empty">No host, secret, connection or path was granted.</p>
      )}
      {denyNet.length > 0 && (
        <p class="deny-net">
          Always denied: {denyNet.map((d) => <code>{d}</code>)}
        </p>
      )}
      {limits && (
        <dl class="limits">
          {Object.entries(limits).map(([name, value]) => (
            <div>
              <dt>{name}</dt>
              <dd>{typeof value === "number" ? amount(name, value) : String(value)}</dd>
            </div>
          ))}
        </dl>
      )}
      {flags.length > 0 && (
        <details>
          <summary>Deno flags</summary>
          <pre class="flags">{flags.join("\n")}</pre>
        </details>
      )}
    </section>
  );
}

export function SandboxSection(props: { run: RunRecord }) {
  const sandbox = record(props.run.sandbox);
  if (!sandbox) return null;
  const layers = record(sandbox.layers ?? null);
  const usage = record(sandbox.usage ?? null);
  const os = typeof sandbox.os_boundary === "string" ? sandbox.os_boundary : null;
  const reason = typeof sandbox.os_boundary_reason === "string" ? sandbox.os_boundary_reason : "";
  return (
    <section id="sandbox">
      <h2>Sandbox</h2>
      <dl class="sandbox">
        <div>
          <dt>Deno permissions</dt>
          <dd>{layers?.deno_permissions === true ? "on" : "—"}</dd>
        </div>
        <div>
          <dt>Module graph check</dt>
          <dd>{layers?.module_graph_check === true ? "on" : "—"}</dd>
        </div>
        <div>
          <dt>OS boundary</dt>
          <dd>{os ?? `none${reason ? `: ${reason}` : ""}`}</dd>
        </div>
        <div>
          <dt>Resource limits (rlimits)</dt>
          <dd>{sandbox.rlimits === true ? "on" : "off"}</dd>
        </div>
        <div>
          <dt>Warm start</dt>
          <dd>{sandbox.warm === true ? "yes" : sandbox.warm === false ? "no" : "—"}</dd>
        </div>
        {usage && Object.entries(usage).map(([name, value]) => (
          <div>
            <dt>peak {name}</dt>
            <dd>
              {typeof value === "number" ? amount(name, value) : JSON.stringify(value)}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
