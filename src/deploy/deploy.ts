/**
 * `tau deploy`: analyze, validate, store a new version, and write its code files. `tau check`
 * runs the same checks ({@link checkDeploy}) and stores nothing, so the two cannot differ.
 */
import { TauError } from "../core/errors.ts";
import { sha256Hex } from "../core/ids.ts";
import type { TauPaths } from "../config/paths.ts";
import {
  cronError,
  type PipelineMetadata,
  pipelineName,
  storedMetadata,
  validatePipelineConfig,
} from "../metadata/schema.ts";
import type { Json, PipelineRecord, Store, VersionSource } from "../store/mod.ts";
import { analyzePipeline } from "./analyze.ts";
import { limitsAboveCeiling, NO_DECLARED_LIMITS, type RunLimits } from "../sandbox/limits.ts";
import { materializeVersion } from "./code_files.ts";
import type { Connection } from "../connections/registry.ts";
import { unknownConnection } from "../connections/resolve.ts";
import { applyDeclarations, checkDeclarations } from "../scheduler/declarations.ts";
import { configLocation, withLocation } from "./author_file.ts";

export const MAX_CODE_BYTES = 1024 * 1024;

export interface DeployRequest {
  code: string;
  filename: string;
  source_path?: string | null;
  name?: string;
  schedule?: string;
  force?: boolean;
  /** What makes this version (`tau create --deploy`: "create"). @default {"deploy"} */
  source?: VersionSource;
  /** The version it derives from (a rollback's target). @default {the current version} */
  parent?: number;
}

export interface DeployResult {
  pipeline: string;
  version: number;
  hash: string;
  unchanged: boolean;
  metadata: PipelineMetadata;
}

/** What the checks found: a deploy stores it, a check only shows it. */
export interface CheckedDeploy {
  metadata: PipelineMetadata;
  hash: string;
  /** The pipeline already deployed under this name, if any. */
  existing: PipelineRecord | null;
  /** Its current version's content is this file's, byte for byte. */
  unchanged: boolean;
  /** The source path to record. */
  source: string | null;
}

/** Every deploy check, in deploy's order; nothing is stored. */
export async function checkDeploy(
  store: Store,
  paths: TauPaths,
  connections: Map<string, Connection>,
  request: DeployRequest,
  ceiling?: RunLimits,
): Promise<CheckedDeploy> {
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
  const at = (field: string) => configLocation(request.code, request.filename, field);

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
        location: first ? at(first.field) : null,
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
        location: at(tooHigh[0]!.field),
        details: { issues: tooHigh },
      },
    );
  }
  for (const name of metadata.connections) {
    if (!connections.has(name)) {
      throw withLocation(unknownConnection(name, connections), at("connections"));
    }
  }

  const existing = await store.getPipeline(metadata.name);
  const hash = sha256Hex(request.code);
  const current = existing ? await store.getVersion(existing.name, existing.current_version) : null;
  const unchanged = current?.hash === hash;
  const source = request.source_path ?? null;
  if (
    existing && !unchanged && !request.force && existing.source_path && source &&
    existing.source_path !== source
  ) {
    throw new TauError(
      "name_conflict",
      `A pipeline named ${metadata.name} is already deployed from ${existing.source_path}`,
      {
        hint:
          `rename one of them, deploy with --name, or replace it with tau deploy ${source} --force`,
        details: { deployed_from: existing.source_path, source_path: source },
      },
    );
  }

  const previous = existing ? storedMetadata(existing) : null;
  try {
    await checkDeclarations(store, metadata, previous);
  } catch (err) {
    throw withLocation(err, at("dependsOn"));
  }
  return {
    metadata,
    hash,
    existing,
    unchanged,
    // The same content from another path changes nothing, not even where it came from.
    source: unchanged && !request.force && existing?.source_path ? existing.source_path : source,
  };
}

export async function deployPipeline(
  store: Store,
  paths: TauPaths,
  connections: Map<string, Connection>,
  request: DeployRequest,
  ceiling?: RunLimits,
): Promise<DeployResult> {
  const { metadata, hash, existing, source } = await checkDeploy(
    store,
    paths,
    connections,
    request,
    ceiling,
  );
  const previous = existing ? storedMetadata(existing) : null;
  const outcome = await store.deploy({
    name: metadata.name,
    code: request.code,
    hash,
    filename: request.filename,
    source_path: source,
    schedule: metadata.schedule,
    metadata: metadata as unknown as Record<string, Json>,
    source: request.source ?? "deploy",
    ...(request.parent !== undefined ? { parent: request.parent } : {}),
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
