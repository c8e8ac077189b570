/**
 * What a run receives for each declared connection: the connector options (camelCase, files
 * such as credentials_path read here on the trusted side), the hosts to allow, and the values
 * to redact.
 */
import { isAbsolute, join } from "node:path";
import { TauError } from "../core/errors.ts";
import {
  type Connection,
  type ConnectionRegistry,
  hostsFor,
  runsOnTrustedSide,
  secretValues,
} from "./registry.ts";

export interface RunConnection {
  type: string;
  options: Record<string, unknown>;
}

export interface ResolvedConnections {
  /** Sent to the run in its init message; includes credentials, never stored. */
  forRun: Record<string, RunConnection>;
  hosts: string[];
  /** The hosts each declared connection grants. */
  hostsByName: Record<string, string[]>;
  redact: string[];
}

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Converts tau.toml's snake_case fields into the connector's camelCase options. */
export function toOptions(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).map(([k, v]) => [camel(k), v]));
}

async function readFileField(path: string, home: string, what: string): Promise<string> {
  const file = isAbsolute(path) ? path : join(home, path);
  try {
    return await Deno.readTextFile(file);
  } catch (err) {
    throw new TauError("invalid_config", `Cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

async function runOptions(c: Connection, home: string): Promise<Record<string, unknown>> {
  const { credentials_path, credentials_json, private_key_path, ...rest } = c.fields as Record<
    string,
    unknown
  >;
  const options = toOptions(rest);
  if (typeof credentials_path === "string") {
    options.credentials = JSON.parse(
      await readFileField(credentials_path, home, "BigQuery credentials"),
    );
  } else if (typeof credentials_json === "string") {
    options.credentials = JSON.parse(credentials_json);
  }
  if (typeof private_key_path === "string") {
    options.privateKey = await readFileField(private_key_path, home, "Snowflake private key");
  }
  return options;
}

/** Resolves a pipeline's declared connections against the registry. */
export async function resolveConnections(
  declared: string[],
  registry: ConnectionRegistry,
  home: string,
): Promise<ResolvedConnections> {
  const out: ResolvedConnections = { forRun: {}, hosts: [], hostsByName: {}, redact: [] };
  for (const name of declared) {
    const c = registry.get(name);
    if (!c) throw unknownConnection(name, registry);
    const options = runsOnTrustedSide(c) ? {} : await runOptions(c, home);
    out.forRun[name] = { type: c.type, options };
    out.hostsByName[name] = hostsFor(c);
    out.hosts.push(...out.hostsByName[name]);
    out.redact.push(...secretValues(c, { ...c.fields, ...options }));
  }
  out.hosts = [...new Set(out.hosts)];
  return out;
}

/** The error for a declared connection the daemon does not have: which tau.toml it read. */
export function unknownConnection(name: string, registry: ConnectionRegistry): TauError {
  const known = [...registry.keys()];
  const configured = known.length > 0 ? `configured connections: ${known.join(", ")}. ` : "";
  if (registry.file === null) {
    return new TauError(
      "invalid_pipeline",
      `Unknown connection ${name}: taud started without a tau.toml (none at TAU_CONFIG, ./tau.toml or $TAU_HOME/tau.toml)`,
      {
        hint:
          `${configured}Write [connections.${name}] in tau.toml in the daemon's home (tau status shows it; see tau.toml.example), or set TAU_CONFIG to the tau.toml that has it, then restart taud (taud stop; taud)`,
      },
    );
  }
  const file = registry.file ?? "tau.toml";
  return new TauError(
    "invalid_pipeline",
    `Unknown connection ${name}: ${file} has no [connections.${name}]`,
    {
      hint:
        `${configured}Add [connections.${name}] to ${file}, or start taud with TAU_CONFIG set to the tau.toml that has it, then restart taud (taud stop; taud)`,
    },
  );
}

/** The hosts a pipeline's declared connections grant, for showing (no options). */
export function connectionHosts(declared: string[], registry: Map<string, Connection>): string[] {
  const hosts = declared.flatMap((name) => {
    const c = registry.get(name);
    return c ? hostsFor(c) : [];
  });
  return [...new Set(hosts)];
}
