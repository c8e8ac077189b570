/**
 * `tau create`: from an intent sentence to a pipeline file that passes every deploy check, and
 * with `deploy` to a deployed version.
 */
import { TauError } from "../core/errors.ts";
import type { TauPaths } from "../config/paths.ts";
import type { TauConfig } from "../config/config.ts";
import type { Store } from "../store/mod.ts";
import type { ConnectionRegistry } from "../connections/registry.ts";
import { unknownConnection } from "../connections/resolve.ts";
import { cronError, type PipelineMetadata, pipelineName } from "../metadata/schema.ts";
import { checkDeploy, type CheckedDeploy, deployPipeline } from "../deploy/deploy.ts";
import { configuredLimits } from "../sandbox/limits.ts";
import { checkFailure, type Proposal, proposeAndVerify, type Verdict } from "./propose.ts";
import type { Provider } from "./provider.ts";
import { createPrompt, systemPrompt } from "./prompt.ts";

export interface CreateRequest {
  intent: string;
  name?: string;
  connections?: string[];
  schedule?: string;
  deploy?: boolean;
  /** The file name the checks report places in. @default `<name>.ts` or pipeline.ts */
  filename?: string;
  /** Where the CLI writes the file, recorded with a deployed version. */
  source_path?: string | null;
}

export interface CreateDeps {
  store: Store;
  paths: TauPaths;
  config: TauConfig;
  connections: ConnectionRegistry;
}

export interface CreateResult {
  name: string | null;
  code: string | null;
  deployed: boolean;
  version: number | null;
  attempts: Proposal<unknown>["attempts"];
  usage: Proposal<unknown>["usage"];
}

export async function createPipeline(
  deps: CreateDeps,
  provider: Provider,
  maxAttempts: number,
  request: CreateRequest,
): Promise<CreateResult> {
  await checkRequest(deps, request);
  const ceiling = configuredLimits(deps.config).ceiling;
  const filename = request.filename ?? `${request.name ?? "pipeline"}.ts`;
  const wanted = request.connections ?? null;
  const available = [...deps.connections.values()]
    .filter((c) => wanted === null || wanted.includes(c.name))
    .map(({ name, type }) => ({ name, type }));
  const taken = (await deps.store.listPipelines()).map((p) => p.name);

  const verify = async (code: string): Promise<Verdict<CheckedDeploy>> => {
    let checked: CheckedDeploy;
    try {
      checked = await checkDeploy(deps.store, deps.paths, deps.connections, {
        code,
        filename,
        ...(request.schedule !== undefined ? { schedule: request.schedule } : {}),
      }, ceiling);
    } catch (err) {
      if (err instanceof TauError) return checkFailure(err, code);
      throw err;
    }
    return requestMet(checked.metadata, request, wanted, !!checked.existing) ??
      { ok: true, value: checked };
  };

  const proposal = await proposeAndVerify(provider, {
    system: await systemPrompt(),
    prompt: createPrompt({
      intent: request.intent,
      ...(request.name ? { name: request.name } : {}),
      ...(request.schedule ? { schedule: request.schedule } : {}),
      connections: available,
      restricted: wanted !== null,
      taken,
    }),
    maxAttempts,
    verify,
  });
  const name = proposal.value?.metadata.name ?? request.name ?? null;
  let version: number | null = null;
  if (proposal.code !== null && request.deploy) {
    const deployed = await deployPipeline(deps.store, deps.paths, deps.connections, {
      code: proposal.code,
      filename,
      source_path: request.source_path ?? null,
      source: "create",
      ...(request.schedule !== undefined ? { schedule: request.schedule } : {}),
    }, ceiling);
    version = deployed.version;
  }
  return {
    name,
    code: proposal.code,
    deployed: version !== null,
    version,
    attempts: proposal.attempts,
    usage: proposal.usage,
  };
}

/** Refuses a request that no candidate could satisfy, before asking the model. */
async function checkRequest(deps: CreateDeps, request: CreateRequest): Promise<void> {
  if (request.name !== undefined && !pipelineName.safeParse(request.name).success) {
    throw new TauError("invalid_params", `Invalid --name ${JSON.stringify(request.name)}`, {
      hint: "a name starts with a letter and holds only letters, digits, '_' or '-'",
    });
  }
  const cron = request.schedule !== undefined ? cronError(request.schedule) : undefined;
  if (cron) {
    throw new TauError(
      "invalid_params",
      `Invalid --schedule ${JSON.stringify(request.schedule)}: ${cron}`,
      {
        hint: 'use a 5-field cron expression such as "0 6 * * *"',
      },
    );
  }
  for (const name of request.connections ?? []) {
    if (!deps.connections.has(name)) throw unknownConnection(name, deps.connections);
  }
  if (request.deploy && request.name && await deps.store.getPipeline(request.name)) {
    throw new TauError("name_conflict", `A pipeline named ${request.name} is already deployed`, {
      hint: `choose another --name; to change ${request.name}, edit its file and tau deploy it`,
    });
  }
}

/** The candidate passed the checks; does it do what was asked (name, schedule, connections)? */
function requestMet(
  metadata: PipelineMetadata,
  request: CreateRequest,
  wanted: string[] | null,
  exists: boolean,
): Verdict<never> | null {
  const invalid = (message: string): Verdict<never> => ({
    ok: false,
    outcome: "invalid",
    error: { code: "invalid_candidate", message },
    feedback: `${message}. Send the complete corrected file.`,
  });
  if (request.name && metadata.name !== request.name) {
    return invalid(`The config name is ${metadata.name}; it must be ${request.name}`);
  }
  if (!request.name && exists) {
    return invalid(`A pipeline named ${metadata.name} is already deployed; choose another name`);
  }
  if (request.schedule && metadata.schedule !== request.schedule) {
    return invalid(`The config must declare schedule: ${JSON.stringify(request.schedule)}`);
  }
  const extra = wanted ? metadata.connections.filter((c) => !wanted.includes(c)) : [];
  if (extra.length > 0) {
    return {
      ok: false,
      outcome: "permission_change",
      error: {
        code: "permission_change",
        message: `The file declares connections it was not given: ${extra.join(", ")}`,
      },
      feedback: `Declare only the connections you were given (${wanted!.join(", ")}); ` +
        `remove ${extra.join(", ")} and send the complete file.`,
    };
  }
  return null;
}
