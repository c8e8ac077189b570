/** `tau deploy`: analyze, validate, store a new version, and write its code files. */
import { TauError } from "../core/errors.ts";
import { sha256Hex } from "../core/ids.ts";
import type { TauPaths } from "../config/paths.ts";
import {
  cronError,
  type PipelineMetadata,
  pipelineName,
  validatePipelineConfig,
} from "../metadata/schema.ts";
import type { Json, Store } from "../store/mod.ts";
import { analyzePipeline } from "./analyze.ts";
import { limitsAboveCeiling, NO_DECLARED_LIMITS, type RunLimits } from "../sandbox/limits.ts";
import { materializeVersion } from "./code_files.ts";
import type { Connection } from "../connections/registry.ts";
import { unknownConnection } from "../connections/resolve.ts";
import { applyDeclarations, checkDeclarations } from "../scheduler/declarations.ts";

export const MAX_CODE_BYTES = 1024 * 1024;

export interface DeployRequest {
  code: string;
  filename: string;
  source_path?: string | null;
  name?: string;
  schedule?: string;
  force?: boolean;
}

export interface DeployResult {
  pipeline: string;
  version: number;
  hash: string;
  unchanged: boolean;
  metadata: PipelineMetadata;
}

export async function deployPipeline(
  store: Store,
  paths: TauPaths,
  connections: Map<string, Connection>,
  request: DeployRequest,
  ceiling?: RunLimits,
): Promise<DeployResult> {
  if (new TextEncoder().encode(request.code).length > MAX_CODE_BYTES) {
    throw new TauError(
      "payload_too_large",
      `Pipeline file is larger than ${MAX_CODE_BYTES} bytes`,
      { hint: "split the pipeline, or move data out of the code into a connection or a file" },
    );
  }
  if (request.name !== undefined && !pipelineName.safeParse(request.name).success) {
    throw new TauError("invalid_params", `Invalid --name ${JSON.stringify(request.name)}`, {
      hint: "a name starts with a letter and holds only letters, digits, '_' or '-'",
    });
  }
  if (request.schedule !== undefined) {
    const error = cronError(request.schedule);
    if (error) {
      throw new TauError(
        "invalid_params",
        `Invalid --schedule ${JSON.stringify(request.schedule)}: ${error}`,
        {
          hint: 'use a 5-field cron expression such as "0 6 * * *"',
        },
      );
    }
  }

  const raw = await analyzePipeline(paths, request.code, request.filename);
  const overridden = typeof raw === "object" && raw !== null && request.name !== undefined
    ? { ...raw, name: request.name }
    : raw;
  const validated = validatePipelineConfig(overridden);
  if (!validated.ok) {
    const first = validated.issues[0];
    throw new TauError(
      "invalid_pipeline",
      `Invalid pipeline config: ${first?.field}: ${first?.message}`,
      {
        hint: "fix the named field in the pipeline({...}) config",
        details: { issues: validated.issues },
      },
    );
  }
  const metadata = validated.metadata;
  const tooHigh = ceiling
    ? limitsAboveCeiling(metadata.limits ?? NO_DECLARED_LIMITS, metadata.timeout_ms, ceiling)
    : [];
  if (tooHigh.length > 0) {
    throw new TauError(
      "invalid_pipeline",
      `Invalid pipeline config: ${tooHigh[0]?.field}: ${tooHigh[0]?.message}`,
      {
        hint: "ask for less, or raise [sandbox.ceiling] in tau.toml and restart taud",
        details: { issues: tooHigh },
      },
    );
  }
  for (const name of metadata.connections) {
    if (!connections.has(name)) throw unknownConnection(name, connections);
  }

  const existing = await store.getPipeline(metadata.name);
  const source = request.source_path ?? null;
  if (
    existing && !request.force && existing.source_path && source && existing.source_path !== source
  ) {
    throw new TauError(
      "name_conflict",
      `A pipeline named ${metadata.name} is already deployed from ${existing.source_path}`,
      {
        hint:
          `rename one of them, deploy with --name, or replace it with tau deploy ${request.filename} --force`,
      },
    );
  }

  const previous = existing ? existing.metadata as unknown as PipelineMetadata : null;
  await checkDeclarations(store, metadata, previous);

  const hash = await sha256Hex(request.code);
  const outcome = await store.deploy({
    name: metadata.name,
    code: request.code,
    hash,
    filename: request.filename,
    source_path: source,
    schedule: metadata.schedule,
    metadata: metadata as unknown as Record<string, Json>,
  });
  await materializeVersion(paths, outcome.version);
  const now = new Date();
  await applyDeclarations(store, metadata, previous, now);
  if (request.schedule !== undefined) {
    // An explicit --schedule wins over the file's, now and on later unchanged redeploys.
    await store.setSchedule(metadata.name, {
      cron: request.schedule,
      every_s: null,
      timezone: metadata.timezone,
    }, now);
  }
  return {
    pipeline: metadata.name,
    version: outcome.version.version,
    hash,
    unchanged: outcome.unchanged,
    metadata,
  };
}
