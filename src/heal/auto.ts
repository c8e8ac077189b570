/**
 * `tau heal NAME --auto`: the model proposes a whole new pipeline file, Tau verifies it. Each
 * candidate passes the deploy checks, is stored as a candidate version (not current), must not
 * widen the pipeline's permissions (unless allowed), and is replayed in the sandbox with the
 * failing run's params; only a candidate whose replay succeeds is promoted.
 */
import { errorText, TauError } from "../core/errors.ts";
import { log } from "../core/log.ts";
import type { TauPaths } from "../config/paths.ts";
import type { TauConfig } from "../config/config.ts";
import type { ConnectionRegistry } from "../connections/registry.ts";
import {
  type Json,
  type PipelineRecord,
  type PipelineVersion,
  type RunRecord,
  type Store,
  TERMINAL_STATUSES,
} from "../store/mod.ts";
import type { RunManager } from "../runner/run_manager.ts";
import { checkDeploy } from "../deploy/deploy.ts";
import { promoteVersion } from "../deploy/promote.ts";
import {
  type PermissionDiff,
  permissionDiff,
  permissionSummary,
  widens,
} from "../deploy/version_diff.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { checkFailure, proposeAndVerify, untrusted, type Verdict } from "../ai/propose.ts";
import type { Provider } from "../ai/provider.ts";
import { systemPrompt } from "../ai/prompt.ts";
import { gatherInput, healReport } from "./load.ts";
import type { Diagnosis } from "./types.ts";

export interface AutoHealRequest {
  run_id?: string;
  allow_permission_changes?: boolean;
  dry_run?: boolean;
}

export interface AutoHealDeps {
  store: Store;
  paths: TauPaths;
  config: TauConfig;
  connections: ConnectionRegistry;
  runs: RunManager;
}

/** Log lines of the failing run the model sees. */
const LOG_LINES = 30;
/** How long one wait for a replay lasts before looking again (the run's own timeout ends it). */
const WAIT_SLICE_MS = 60_000;

/**
 * How long a heal is held without renewal. The daemon running it renews it a few times per
 * lease; once it stops, the next heal of the pipeline (or its next start) closes the heal.
 */
const HEAL_LEASE_MS = 60_000;

export async function autoHeal(
  deps: AutoHealDeps,
  provider: Provider,
  maxAttempts: number,
  name: string,
  request: AutoHealRequest = {},
) {
  const started = Date.now();
  const { store } = deps;
  const report = await healReport(store, name, request.run_id);
  const healId = `heal_${crypto.randomUUID()}`;
  const lease = () => new Date(Date.now() + HEAL_LEASE_MS).toISOString();
  // One heal of a pipeline at a time, across every daemon sharing the store (`conflict`).
  await store.createHeal(
    { id: healId, pipeline: name, run_id: report.run_id, expires_at: lease() },
    new Date(),
  );
  const renew = setInterval(() => {
    // A failed renewal is logged; should the lease lapse, the heal is closed elsewhere as
    // interrupted and this one is refused before it promotes (see heal()).
    store.updateHeal(healId, { expires_at: lease() }).catch((err) =>
      log("heal_lease_error", { heal_id: healId, pipeline: name, error: errorText(err) })
    );
  }, HEAL_LEASE_MS / 3);
  try {
    return await heal(deps, provider, maxAttempts, report, request, started, healId);
  } catch (err) {
    await store.updateHeal(healId, {
      status: "failed",
      finished_at: new Date().toISOString(),
      expires_at: null,
      record: { error: err instanceof TauError ? err.toJSON() : String(err) } as Record<
        string,
        Json
      >,
    });
    throw err;
  } finally {
    clearInterval(renew);
  }
}

async function heal(
  deps: AutoHealDeps,
  provider: Provider,
  maxAttempts: number,
  report: Awaited<ReturnType<typeof healReport>>,
  request: AutoHealRequest,
  started: number,
  healId: string,
) {
  const { store, paths, connections, runs } = deps;
  const name = report.pipeline;
  const failing = (await store.getRun(report.run_id))!;
  const pipeline = (await store.getPipeline(name))!;
  const current = (await store.getVersion(name, pipeline.current_version))!;
  const ceiling = configuredLimits(deps.config).ceiling;

  const summary = (version: PipelineVersion) =>
    permissionSummary(
      runs.permissions(
        { ...pipeline, metadata: version.metadata, current_version: version.version },
        version.hash,
      ),
      version,
    );
  const currentGrants = summary(current);
  const permissionChanges: (PermissionDiff & { candidate_version: number })[] = [];

  const verify = async (code: string): Promise<Verdict<PipelineVersion>> => {
    let checked;
    try {
      checked = await checkDeploy(store, paths, connections, {
        code,
        filename: current.filename,
      }, ceiling);
    } catch (err) {
      if (err instanceof TauError) return checkFailure(err, code);
      throw err;
    }
    if (checked.metadata.name !== name) return invalid(`The config name must stay ${name}`);
    if (checked.unchanged) return invalid("The file is the current code, which failed");
    const candidate = await store.createVersion({
      name,
      code,
      hash: checked.hash,
      filename: current.filename,
      metadata: checked.metadata as unknown as Record<string, Json>,
      source: "heal",
      parent: current.version,
      heal_id: healId,
    });
    const extra = { candidate_version: candidate.version, run_id: null as string | null };
    const grants = summary(candidate);
    if (widens(currentGrants, grants)) {
      const diff = permissionDiff(currentGrants, grants);
      permissionChanges.push({ ...diff, candidate_version: candidate.version });
      if (!request.allow_permission_changes) {
        // Never replayed: a replay would run it with the wider grants.
        return {
          ok: false,
          outcome: "permission_change",
          error: {
            code: "permission_change",
            message: `The candidate widens the pipeline's permissions: ${
              JSON.stringify(diff.added)
            }`,
            hint: `review it (tau diff ${name} ${candidate.version}); heal again with ` +
              "--allow-permission-changes to accept wider permissions",
          },
          feedback: "The pipeline's permissions may not widen: declare no new host, secret or " +
            `connection and raise no limit (this file added ${JSON.stringify(diff.added)}). ` +
            "Fix the failure within the current permissions and send the complete file.",
          extra,
        };
      }
    }
    const run = await replay(deps, name, candidate.version, failing);
    extra.run_id = run.run_id;
    if (run.status === "success") return { ok: true, value: candidate, extra };
    const error = run.error ?? { kind: "unknown", message: `Replay ended ${run.status}` };
    return {
      ok: false,
      outcome: "replay_failed",
      error: {
        code: "replay_failed",
        message: `The replay (run ${run.run_id}) ended ${run.status}: ${error.message}`,
        details: { run_id: run.run_id, status: run.status, error } as unknown as Json,
      },
      feedback: "The file passed the checks, but its replay in the sandbox with the failing " +
        "run's params did not succeed. The run's error:\n" +
        untrusted("replay-error", JSON.stringify(error, null, 2)) +
        "\nFix it and send the complete corrected file.",
      extra,
    };
  };

  const proposal = await proposeAndVerify(provider, {
    system: await systemPrompt(),
    prompt: await healPrompt(deps, pipeline, current, failing, report.diagnosis),
    maxAttempts,
    verify,
  });
  const winner = proposal.value;
  const promoted = winner !== null && !request.dry_run;
  if (promoted) {
    await assertStillHeld(deps, healId);
    await promoteVersion(store, paths, name, winner.version);
  }
  const result = {
    heal_id: healId,
    pipeline: name,
    run_id: failing.run_id,
    promoted,
    version: winner?.version ?? null,
    dry_run: !!request.dry_run,
    attempts: proposal.attempts.map(({ n, outcome, error, run_id, candidate_version }) => ({
      n,
      outcome,
      error,
      run_id: run_id ?? null,
      candidate_version: candidate_version ?? null,
    })),
    permission_changes: permissionChanges,
    diagnosis: report.diagnosis,
    usage: proposal.usage,
    duration_ms: Date.now() - started,
  };
  const status = promoted
    ? "promoted"
    : winner
    ? "dry_run"
    : permissionChanges.length > 0
    ? "refused"
    : "failed";
  await store.updateHeal(healId, {
    status,
    finished_at: new Date().toISOString(),
    expires_at: null,
    record: result as unknown as Record<string, Json>,
  });
  return result;
}

function invalid(message: string): Verdict<never> {
  return {
    ok: false,
    outcome: "invalid",
    error: { code: "invalid_candidate", message },
    feedback: `${message}. Send the complete corrected file.`,
  };
}

/** Runs `version` with the failing run's params and waits for the run to end. */
async function replay(
  { runs, store }: AutoHealDeps,
  name: string,
  version: number,
  failing: RunRecord,
): Promise<RunRecord> {
  let run = await runs.submit(name, { version, params: failing.params, trigger: "heal" });
  while (!TERMINAL_STATUSES.includes(run.status)) {
    await runs.waitFor(run.run_id, WAIT_SLICE_MS);
    run = (await store.getRun(run.run_id)) ?? run;
  }
  return run;
}

/** Everything from the run is quoted as data; connections by name and type only. */
async function healPrompt(
  deps: AutoHealDeps,
  pipeline: PipelineRecord,
  current: PipelineVersion,
  failing: RunRecord,
  diagnosis: Diagnosis,
): Promise<string> {
  const input = await gatherInput(deps.store, failing);
  const declared = Array.isArray(current.metadata.connections)
    ? current.metadata.connections.map(String)
    : [];
  const list = declared
    .map((c) => `- ${c} (type ${deps.connections.get(c)?.type ?? "unknown"})`)
    .join("\n") || "- (none)";
  const steps = input.steps.map(({ name, status, duration_ms, rows_in, rows_out, error }) => ({
    name,
    status,
    duration_ms,
    rows_in,
    rows_out,
    error,
  }));
  const logs = input.logs.slice(-LOG_LINES)
    .map((l) => `${l.ts} ${l.level}${l.step ? ` [${l.step}]` : ""} ${l.message}`)
    .join("\n");
  return [
    `The Tau pipeline ${JSON.stringify(pipeline.name)} failed (run ${failing.run_id}, ` +
    `version ${current.version}). Send a complete new version of its file (${current.filename}) ` +
    "that fixes the failure. Keep its config name and its permissions: declare no new host, " +
    "secret or connection and raise no limit unless the fix cannot be made otherwise.",
    `Its current code:\n${untrusted("code", current.code)}`,
    `Tau's diagnosis of the failure:\n${untrusted("diagnosis", JSON.stringify(diagnosis))}`,
    `The run's error:\n${untrusted("error", JSON.stringify(failing.error))}`,
    `Its steps:\n${untrusted("steps", JSON.stringify(steps))}`,
    `Its last log lines:\n${untrusted("logs", logs || "(none)")}`,
    `The connections it declares:\n${list}`,
  ].join("\n\n");
}

/**
 * Refuses to promote for a heal that is no longer running: its lease lapsed (renewals failed)
 * and another daemon closed it, so a newer heal of the pipeline may be under way.
 */
async function assertStillHeld(deps: AutoHealDeps, healId: string): Promise<void> {
  const held = await deps.store.getHeal(healId);
  if (held?.status === "running") return;
  throw new TauError(
    "conflict",
    `Heal ${healId} lost its lease (it is ${held?.status ?? "gone"}); its fix was not promoted`,
    { hint: "see the daemon log for heal_lease_error, then run tau heal again" },
  );
}
