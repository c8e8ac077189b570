/**
 * Pipelines and their versions on PostgreSQL: deploy, candidates, promotion, lookups. Deploys,
 * candidates and promotions of one pipeline serialize on its deploy lock: each numbers a
 * version after the newest or changes which one is current.
 */

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
import { PIPELINE_COLUMNS, VERSION_COLUMNS } from "./columns.ts";
import { type Db, DEPLOY_LOCK, query, type Sql, tx } from "./db.ts";

export async function getPipeline(db: Db, name: string): Promise<PipelineRecord | null> {
  const [row] = await query(db, `SELECT ${PIPELINE_COLUMNS} FROM pipelines WHERE name = $1`, [
    name,
  ]);
  return row ? toPipeline(row) : null;
}

export async function listPipelines(db: Db): Promise<PipelineRecord[]> {
  const rows = await query(db, `SELECT ${PIPELINE_COLUMNS} FROM pipelines ORDER BY name`);
  return rows.map(toPipeline);
}

export async function getVersion(
  db: Db,
  name: string,
  version: number,
): Promise<PipelineVersion | null> {
  const [row] = await query(
    db,
    `SELECT ${VERSION_COLUMNS} FROM pipeline_versions WHERE pipeline = $1 AND version = $2`,
    [name, version],
  );
  return row ? toVersion(row) : null;
}

/** PIPELINE_COLUMNS of `pipelines p`, for queries that join it. */
const JOINED_PIPELINE_COLUMNS = PIPELINE_COLUMNS.split(",").map((c) => `p.${c.trim()}`).join(", ");

export async function getCurrentVersions(
  db: Db,
  names: string[],
): Promise<Map<string, CurrentVersion>> {
  const rows = await query(
    db,
    `SELECT ${JOINED_PIPELINE_COLUMNS}, v.hash AS current_hash FROM pipelines p
     LEFT JOIN pipeline_versions v ON v.pipeline = p.name AND v.version = p.current_version
     WHERE p.name IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [JSON.stringify(names)],
  );
  return new Map(rows.map((row) => [row.name as string, toCurrentVersion(row)]));
}

export async function listVersions(db: Db, name: string): Promise<PipelineVersion[]> {
  const rows = await query(
    db,
    `SELECT ${VERSION_COLUMNS} FROM pipeline_versions WHERE pipeline = $1 ORDER BY version`,
    [name],
  );
  return rows.map(toVersion);
}

export function deploy(sql: Sql, input: DeployInput): Promise<DeployOutcome> {
  return tx(sql, async (tx) => {
    // Two deploys of one pipeline would both compute the same next version number.
    await query(tx, DEPLOY_LOCK, [input.name]);
    const now = new Date().toISOString();
    const metadata = JSON.stringify(input.metadata);
    const existing = await getPipeline(tx, input.name);
    const current = existing ? await getVersion(tx, input.name, existing.current_version) : null;

    if (existing && current && current.hash === input.hash) {
      const [row] = await query(
        tx,
        `UPDATE pipelines SET source_path = $1, schedule = $2, metadata = $3, updated_at = $4
         WHERE name = $5 RETURNING ${PIPELINE_COLUMNS}`,
        [input.source_path, input.schedule, metadata, now, input.name],
      );
      return { pipeline: toPipeline(row as Row), version: current, unchanged: true };
    }

    const version = await nextVersion(tx, input.name);
    // Upsert the pipeline first: the version row's foreign key needs it.
    const [pipeline] = await query(
      tx,
      `INSERT INTO pipelines (name, current_version, source_path, schedule, metadata,
         created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (name) DO UPDATE SET current_version = excluded.current_version,
         source_path = excluded.source_path, schedule = excluded.schedule,
         metadata = excluded.metadata, updated_at = excluded.updated_at
       RETURNING ${PIPELINE_COLUMNS}`,
      [input.name, version, input.source_path, input.schedule, metadata, now, now],
    );
    const previous = existing?.current_version ?? null;
    const created = await insertVersion(tx, deployedVersion(input, previous), version, now, true);
    return { pipeline: toPipeline(pipeline as Row), version: created, unchanged: false };
  });
}

async function nextVersion(db: Db, name: string): Promise<number> {
  const [row] = await query(
    db,
    "SELECT coalesce(max(version), 0) + 1 AS n FROM pipeline_versions WHERE pipeline = $1",
    [name],
  );
  return Number(row?.n);
}

/** Inserts a version made at `now`, current (`promoted`) or a candidate. */
async function insertVersion(
  db: Db,
  input: NewVersion,
  version: number,
  now: string,
  promoted: boolean,
): Promise<PipelineVersion> {
  const values = newVersionValues(input, version, now, promoted);
  const [row] = await query(
    db,
    `INSERT INTO pipeline_versions (${values.map(([column]) => column).join(", ")})
     VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")}) RETURNING ${VERSION_COLUMNS}`,
    values.map(([, value]) => value),
  );
  return toVersion(row as Row);
}

export function createVersion(sql: Sql, input: NewVersion): Promise<PipelineVersion> {
  return tx(sql, async (tx) => {
    // The same lock as deploy: both number a version after the newest.
    await query(tx, DEPLOY_LOCK, [input.name]);
    if (!(await getPipeline(tx, input.name))) throw pipelineNotDeployed(input.name);
    const now = new Date().toISOString();
    return insertVersion(tx, input, await nextVersion(tx, input.name), now, false);
  });
}

export function promoteVersion(
  sql: Sql,
  name: string,
  version: number,
): Promise<PipelineRecord | null> {
  return tx(sql, async (tx) => {
    await query(tx, DEPLOY_LOCK, [name]);
    const stored = await getVersion(tx, name, version);
    if (!stored) return null;
    const now = new Date().toISOString();
    await query(
      tx,
      "UPDATE pipeline_versions SET promoted_at = $1 WHERE pipeline = $2 AND version = $3",
      [now, name, version],
    );
    const [row] = await query(
      tx,
      `UPDATE pipelines SET current_version = $1, metadata = $2, schedule = $3, updated_at = $4
       WHERE name = $5 RETURNING ${PIPELINE_COLUMNS}`,
      [version, JSON.stringify(stored.metadata), scheduleOf(stored), now, name],
    );
    return row ? toPipeline(row) : null;
  });
}

export async function deletePipeline(db: Db, name: string): Promise<boolean> {
  // Versions, runs (with their steps and logs), schedules, ticks and dependency edges go by
  // ON DELETE CASCADE.
  const rows = await query(db, "DELETE FROM pipelines WHERE name = $1 RETURNING name", [name]);
  return rows.length > 0;
}
