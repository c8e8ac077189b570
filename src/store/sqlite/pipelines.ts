/** Pipelines and their versions on SQLite: deploy, candidates, promotion, lookups. */

import { TauError } from "../../core/errors.ts";
import { newVersionValues, type Row, toCurrentVersion, toPipeline, toVersion } from "../codec.ts";
import { deployedVersion, pipelineNotDeployed, scheduleOf } from "../pipeline_rules.ts";
import type {
  CurrentVersion,
  DeployInput,
  DeployOutcome,
  NewVersion,
  PipelineRecord,
  PipelineVersion,
} from "../types.ts";
import type { Db } from "./db.ts";

export function getPipeline(db: Db, name: string): PipelineRecord | null {
  const row = db.stmt("SELECT * FROM pipelines WHERE name = ?").get(name);
  return row ? toPipeline(row) : null;
}

function mustPipeline(db: Db, name: string): PipelineRecord {
  const pipeline = getPipeline(db, name);
  if (!pipeline) throw new TauError("internal", `Pipeline ${name} vanished`);
  return pipeline;
}

export function listPipelines(db: Db): PipelineRecord[] {
  return db.stmt("SELECT * FROM pipelines ORDER BY name").all().map(toPipeline);
}

export function getVersion(db: Db, name: string, version: number): PipelineVersion | null {
  const row = db.stmt("SELECT * FROM pipeline_versions WHERE pipeline = ? AND version = ?")
    .get(name, version);
  return row ? toVersion(row) : null;
}

export function getCurrentVersions(db: Db, names: string[]): Map<string, CurrentVersion> {
  const rows = db.stmt(
    `SELECT p.*, v.hash AS current_hash FROM pipelines p
     LEFT JOIN pipeline_versions v ON v.pipeline = p.name AND v.version = p.current_version
     WHERE p.name IN (SELECT value FROM json_each(?))`,
  ).all(JSON.stringify(names));
  return new Map(rows.map((row) => [row.name as string, toCurrentVersion(row)]));
}

export function listVersions(db: Db, name: string): PipelineVersion[] {
  return db.stmt("SELECT * FROM pipeline_versions WHERE pipeline = ? ORDER BY version")
    .all(name).map(toVersion);
}

export function deploy(db: Db, input: DeployInput): DeployOutcome {
  return db.tx(() => {
    const now = new Date().toISOString();
    const metadata = JSON.stringify(input.metadata);
    const existing = getPipeline(db, input.name);
    const current = existing ? getVersion(db, input.name, existing.current_version) : null;

    if (existing && current && current.hash === input.hash) {
      db.stmt(
        "UPDATE pipelines SET source_path = ?, schedule = ?, metadata = ?, updated_at = ? WHERE name = ?",
      ).run(input.source_path, input.schedule, metadata, now, input.name);
      return { pipeline: mustPipeline(db, input.name), version: current, unchanged: true };
    }

    const version = nextVersion(db, input.name);
    // Upsert the pipeline first: the version row's foreign key needs it.
    db.stmt(
      `INSERT INTO pipelines (name, current_version, source_path, schedule, metadata, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version,
         source_path = excluded.source_path, schedule = excluded.schedule,
         metadata = excluded.metadata, updated_at = excluded.updated_at`,
    ).run(input.name, version, input.source_path, input.schedule, metadata, now, now);
    const previous = existing?.current_version ?? null;
    const stored = insertVersion(db, deployedVersion(input, previous), version, now, true);
    return { pipeline: mustPipeline(db, input.name), version: stored, unchanged: false };
  });
}

function nextVersion(db: Db, name: string): number {
  const row = db.stmt(
    "SELECT coalesce(max(version), 0) + 1 AS n FROM pipeline_versions WHERE pipeline = ?",
  ).get(name) as { n: number };
  return row.n;
}

/** Inserts a version made at `now`, current (`promoted`) or a candidate. */
function insertVersion(
  db: Db,
  input: NewVersion,
  version: number,
  now: string,
  promoted: boolean,
): PipelineVersion {
  const values = newVersionValues(input, version, now, promoted);
  const row = db.stmt(
    `INSERT INTO pipeline_versions (${values.map(([column]) => column).join(", ")})
     VALUES (${values.map(() => "?").join(", ")}) RETURNING *`,
  ).get(...values.map(([, value]) => value));
  return toVersion(row as Row);
}

export function createVersion(db: Db, input: NewVersion): PipelineVersion {
  return db.tx(() => {
    if (!getPipeline(db, input.name)) throw pipelineNotDeployed(input.name);
    const now = new Date().toISOString();
    return insertVersion(db, input, nextVersion(db, input.name), now, false);
  });
}

export function promoteVersion(db: Db, name: string, version: number): PipelineRecord | null {
  return db.tx(() => {
    const stored = getVersion(db, name, version);
    if (!stored) return null;
    const now = new Date().toISOString();
    db.stmt(
      "UPDATE pipeline_versions SET promoted_at = ? WHERE pipeline = ? AND version = ?",
    ).run(now, name, version);
    db.stmt(
      `UPDATE pipelines SET current_version = ?, metadata = ?, schedule = ?, updated_at = ?
       WHERE name = ?`,
    ).run(version, JSON.stringify(stored.metadata), scheduleOf(stored), now, name);
    return getPipeline(db, name);
  });
}

export function deletePipeline(db: Db, name: string): boolean {
  // Versions, runs, and (through runs) steps and logs go by ON DELETE CASCADE.
  const { changes } = db.stmt("DELETE FROM pipelines WHERE name = ?").run(name);
  return Number(changes) > 0;
}
