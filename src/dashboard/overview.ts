/** What the overview page shows of each pipeline, failures first. */
import { storedMetadata } from "../metadata/schema.ts";
import type { RunRecord, RunStatus, Store } from "../store/mod.ts";
import { scheduleView } from "../api/graph.ts";

/** Runs in each pipeline's strip of recent runs. */
export const STRIP_RUNS = 20;

export interface RunMark {
  run_id: string;
  status: RunStatus;
  created_at: string;
}

export interface PipelineRow {
  name: string;
  description: string | null;
  tags: string[];
  version: number;
  /** The last run's status, or null when it never ran. */
  status: RunStatus | null;
  schedule: string | null;
  next_run_at: string | null;
  /** Newest first: the first is the last run. */
  recent: RunMark[];
}

const FAILED: ReadonlySet<RunStatus> = new Set(["failed", "timed_out"]);

function mark(run: RunRecord): RunMark {
  return { run_id: run.run_id, status: run.status, created_at: run.created_at };
}

/** One query per pipeline for its recent runs (an indexed, limited read), one for its schedule. */
export async function overviewRows(store: Store, timezone: string): Promise<PipelineRow[]> {
  const pipelines = await store.listPipelines();
  const rows = await Promise.all(pipelines.map(async (p): Promise<PipelineRow> => {
    const metadata = storedMetadata(p);
    const runs = await store.listRuns(p.name, { limit: STRIP_RUNS });
    const schedule = scheduleView(await store.getSchedule(p.name), timezone);
    return {
      name: p.name,
      description: metadata.description ?? null,
      tags: metadata.tags ?? [],
      version: p.current_version,
      status: runs[0]?.status ?? null,
      schedule: schedule.schedule ?? (schedule.every_s ? `every ${schedule.every_s}s` : null),
      next_run_at: schedule.enabled ? schedule.next_run_at : null,
      recent: runs.map(mark),
    };
  }));
  const failing = (row: PipelineRow) => row.status !== null && FAILED.has(row.status);
  return rows.sort((a, b) =>
    Number(failing(b)) - Number(failing(a)) || a.name.localeCompare(b.name)
  );
}
