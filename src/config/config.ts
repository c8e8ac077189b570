/**
 * `tau.toml`: found at TAU_CONFIG, else ./tau.toml, else $TAU_HOME/tau.toml; optional.
 * `${VAR}` and `${VAR:-default}` are interpolated from the daemon's environment; errors name
 * the key (and the line, for syntax errors).
 */
import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import { join, resolve } from "node:path";
import { exists } from "../core/fs.ts";
import { TauError } from "../core/errors.ts";
import { duration, timezone } from "../core/validators.ts";
import { parseConnections } from "../connections/registry.ts";
import { keyLine } from "./toml_lines.ts";
import { aiSchema } from "../ai/config.ts";
import { webhookDeliverySchema, webhooksSchema } from "../webhooks/config.ts";

const port = z.number().int().min(0).max(65535);

export const configSchema = z.strictObject({
  daemon: z.strictObject({
    host: z.string().min(1).default("127.0.0.1"),
    port: port.default(8400),
    /** On SIGTERM a worker stops claiming and lets its runs finish this long, then hands the
     * rest back to the queue. */
    drain_grace: duration.default("10s"),
    /** A worker's claim on a run lapses this long after its last heartbeat. */
    lease: duration.default("15s"),
  }).prefault({}),
  dashboard: z.strictObject({
    /** The web dashboard, served with the `api` role on a port of its own. */
    enabled: z.boolean().default(true),
    /** Unset: the API's port + 1 (any free port when the API's is 0). */
    port: port.optional(),
  }).prefault({}),
  database: z.strictObject({
    /** `postgres://…` for the PostgreSQL store; unset: SQLite in $TAU_HOME/tau.db. */
    url: z.string().regex(/^postgres(ql)?:\/\//, {
      message: "must be a postgres:// or postgresql:// URL (unset for SQLite)",
    }).optional(),
    /** Connections in the PostgreSQL pool. */
    pool_size: z.number().int().min(1).max(100).default(10),
  }).prefault({}),
  auth: z.strictObject({ api_key: z.string().min(16).optional() }).prefault({}),
  scheduler: z.strictObject({
    timezone: timezone.default("UTC"),
    max_concurrent: z.number().int().min(1).max(1000).default(10),
    retries: z.number().int().min(0).max(10).default(0),
    retry_delay: duration.default("2s"),
    timeout: duration.default("1h"),
    /** Finished runs kept per pipeline, and for how many days; older ones are pruned. */
    history_runs: z.number().int().min(1).default(1000),
    history_days: z.number().int().min(1).default(90),
  }).prefault({}),
  sandbox: z.strictObject({
    /** `auto`: bubblewrap when it works; `require`: refuse to start without it; `off`. */
    os_boundary: z.enum(["auto", "require", "off"]).default("auto"),
    /**
     * The deno a compiled taud runs pipelines with (an absolute path); unset: a `deno` beside
     * the binary, else on PATH. Ignored from a checkout, which runs them with its own deno.
     */
    deno: z.string().regex(/^\//, "must be an absolute path").optional(),
    // What a run gets when its pipeline declares no `limits`.
    heap_mb: z.number().int().min(16).max(65536).default(512),
    memory_mb: z.number().int().min(64).max(262144).default(1024),
    cpu_seconds: z.number().int().min(1).default(3600),
    disk_mb: z.number().int().min(1).default(1024),
    max_output_bytes: z.number().int().min(1024).default(10 * 1024 * 1024),
    max_request_bytes: z.number().int().min(1024 * 1024).default(4 * 1024 ** 3),
    max_events: z.number().int().min(100).default(1_000_000),
    max_threads: z.number().int().min(8).max(4096).default(64),
    /** Files and folders a run may hold in its scratch folder and DENO_DIR. */
    max_files: z.number().int().min(100).max(10_000_000).default(100_000),
    /** Memory the children started ahead of their runs may hold together; 0: none. */
    warm_pool_mb: z.number().int().min(0).max(65536).default(256),
    /** How long a warm child waits for a run before it is discarded. */
    warm_pool_idle: duration.default("10m"),
    /** Nothing a pipeline declares may go beyond these. */
    ceiling: z.strictObject({
      heap_mb: z.number().int().min(16).max(65536).default(8192),
      memory_mb: z.number().int().min(64).max(262144).default(16384),
      cpu_seconds: z.number().int().min(1).default(86400),
      disk_mb: z.number().int().min(1).default(102400),
      max_output_bytes: z.number().int().min(1024).default(1024 * 1024 * 1024),
      max_request_bytes: z.number().int().min(1024 * 1024).default(64 * 1024 ** 3),
      max_events: z.number().int().min(100).default(100_000_000),
      timeout: duration.default("24h"),
    }).prefault({}),
  }).superRefine((sandbox, ctx) => {
    for (const key of ["heap_mb", "memory_mb", "cpu_seconds", "disk_mb"] as const) {
      if (sandbox[key] > sandbox.ceiling[key]) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: `${sandbox[key]} is above [sandbox.ceiling] ${key} (${sandbox.ceiling[key]})`,
        });
      }
    }
  }).prefault({}),
  connections: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  /** Absent: `tau create` and `tau heal --auto` fail with ai_not_configured. */
  ai: aiSchema.optional(),
  /** `[[webhooks]]`: signed deliveries of run events (docs/webhooks.md). */
  webhooks: webhooksSchema,
  webhooks_delivery: webhookDeliverySchema,
});

export type TauConfig = z.infer<typeof configSchema>;

type Env = { get(name: string): string | undefined };

/** Names a key of the config file in an error message: `FILE:LINE: KEY`, or `FILE: KEY`. */
export type KeyPlace = (key: string) => string;

/** Replaces `${VAR}` / `${VAR:-default}` in every string of a parsed TOML document. */
export function interpolate(
  value: unknown,
  env: Env,
  path = "",
  place: KeyPlace = (key) => `tau.toml: ${key}`,
): unknown {
  if (typeof value === "string") {
    return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name, fallback) => {
      const found = env.get(name);
      if (found !== undefined && found !== "") return found;
      if (fallback !== undefined) return fallback;
      throw new TauError(
        "invalid_config",
        `${place(path)} refers to \${${name}}, which is not set`,
        {
          hint: `export ${name}=… before starting taud, or write \${${name}:-default}`,
        },
      );
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, `${path}[${i}]`, place));
  if (value && typeof value === "object") {
    const entries = Object.entries(value).map(([k, v]) => {
      return [k, interpolate(v, env, path ? `${path}.${k}` : k, place)];
    });
    return Object.fromEntries(entries);
  }
  return value;
}

export async function findConfigFile(
  home: string,
  env: Env = Deno.env,
  cwd = Deno.cwd(),
): Promise<string | null> {
  const explicit = env.get("TAU_CONFIG");
  if (explicit) return resolve(cwd, explicit);
  for (const candidate of [join(cwd, "tau.toml"), join(home, "tau.toml")]) {
    if (await exists(candidate)) return candidate;
  }
  return null;
}

/**
 * Parses and validates a tau.toml document, `[connections.*]` included. Errors name the file,
 * the line and the key.
 */
export function parseConfig(text: string, env: Env = Deno.env, file = "tau.toml"): TauConfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    const where = err instanceof TomlError ? `${file}:${err.line}:${err.column}` : file;
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new TauError("invalid_config", `${where}: syntax error: ${message}`, {
      hint: "fix the TOML syntax; see tau.toml.example",
    });
  }
  // The key's line, else its table's (a missing field is reported where its table starts).
  const place: KeyPlace = (key) => {
    const path = key.replace(/\[\d+\]/g, "").split(".");
    let line: number | null = null;
    for (let n = path.length; n > 0 && line === null; n--) line = keyLine(text, path.slice(0, n));
    return `${file}${line ? `:${line}` : ""}: ${key}`;
  };
  const parsed = configSchema.safeParse(interpolate(doc, env, "", place));
  if (!parsed.success) {
    const issue = parsed.error.issues[0] as z.core.$ZodIssue;
    const path = issue.path.map(String);
    const details = parsed.error.issues.flatMap((i) =>
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => ({ key: [...i.path, k].join("."), message: "unknown key" }))
        : [{ key: i.path.join("."), message: i.message }]
    );
    if (issue.code === "unrecognized_keys") {
      const key = [...path, issue.keys[0] as string];
      const accepted = tableKeys(path);
      throw new TauError(
        "invalid_config",
        `${place(key.join("."))}: unknown ${path.length === 0 ? "table" : "key"}`,
        {
          hint: path.length === 0
            ? `the tables are ${accepted.map((k) => `[${k}]`).join(", ")}; see tau.toml.example`
            : `[${path.join(".")}] takes ${accepted.join(", ")}; see tau.toml.example`,
          details,
        },
      );
    }
    throw new TauError("invalid_config", `${place(path.join(".") || "(root)")}: ${issue.message}`, {
      hint: "see tau.toml.example for the accepted keys and values",
      details,
    });
  }
  parseConnections(parsed.data.connections, place);
  return parsed.data;
}

/** The keys a table of {@link configSchema} accepts (`[]`: the top-level tables). */
function tableKeys(path: string[]): string[] {
  // deno-lint-ignore no-explicit-any
  const unwrap = (schema: any): any => {
    while (schema?.def?.innerType) schema = schema.def.innerType;
    return schema;
  };
  let schema = unwrap(configSchema);
  for (const segment of path) schema = unwrap(schema?.shape?.[segment]);
  return schema?.shape ? Object.keys(schema.shape) : [];
}

/** The config in effect for a TAU_HOME and the file it came from (null: none, defaults). */
export async function loadConfig(
  home: string,
  env: Env = Deno.env,
): Promise<{ config: TauConfig; file: string | null }> {
  const file = await findConfigFile(home, env);
  let config = configSchema.parse({});
  if (file) {
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (err) {
      const named = env.get("TAU_CONFIG") ? " (named by TAU_CONFIG)" : "";
      throw new TauError(
        "invalid_config",
        `Cannot read config file ${file}${named}: ${String(err)}`,
        {
          hint: named ? "point TAU_CONFIG at a readable tau.toml, or unset it" : "make it readable",
        },
      );
    }
    config = parseConfig(text, env, file);
  }
  const envDatabase = env.get("TAU_DATABASE_URL");
  if (envDatabase) {
    if (!/^postgres(ql)?:\/\//.test(envDatabase)) {
      throw new TauError("invalid_config", "TAU_DATABASE_URL must be a postgres:// URL", {
        hint: "unset it to use SQLite in $TAU_HOME/tau.db",
      });
    }
    config.database.url = envDatabase;
  }
  const envPort = env.get("TAU_PORT");
  if (envPort) {
    const port = Number(envPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new TauError("invalid_config", `TAU_PORT must be a port number, not ${envPort}`, {
        hint: "set TAU_PORT to an integer from 0 to 65535, or unset it",
      });
    }
    config.daemon.port = port;
  }
  return { config, file };
}
