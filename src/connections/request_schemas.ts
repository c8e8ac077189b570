/**
 * What a run may ask the trusted side for: one zod schema per request op, each bounded (string
 * lengths, array sizes), checked before anything else happens. A request is split into the
 * session it targets (a declared connection or an inline database, decided by the daemon) and
 * the arguments the engine receives.
 */
import { z } from "zod";

const MAX_SQL_CHARS = 1_000_000;
const MAX_NAME_CHARS = 256;

const target = {
  connection: z.string().max(64).optional(),
  inline_path: z.string().min(1).max(4096).optional(),
};
const params = z.union([z.array(z.unknown()).max(100_000), z.record(z.string(), z.unknown())])
  .optional();
// A file of rows a load staged in the run's scratch folder (see sdk/connectors/duckdb.ts): a
// bare name, so it can only be in the load folder there.
const loadFile = z.string().regex(/^[0-9]{1,9}_[0-9]{1,9}\.json$/, {
  message: "expected a staged load file name (LOAD_SEQ.json)",
});
const name = z.string().min(1).max(MAX_NAME_CHARS);
const handle = z.number().int().positive();

const statement = z.object({
  ...target,
  sql: z.string().max(MAX_SQL_CHARS),
  params,
  // Reply with the result's column types too.
  types: z.boolean().optional(),
});
// A column of the rows a load writes, with its type as the connector inferred it.
const column = z.object({
  name,
  kind: z.enum(["bigint", "decimal", "double", "boolean", "date", "timestamp", "json", "text"]),
  precision: z.number().int().min(1).max(1000).optional(),
  scale: z.number().int().min(0).max(1000).optional(),
  known: z.boolean(),
});

const REQUEST_SCHEMAS = {
  "duckdb.query": statement,
  "duckdb.execute": statement,
  "duckdb.cursor_open": statement,
  "duckdb.cursor_next": z.object({
    ...target,
    cursor: handle,
    batchSize: z.number().int().positive().optional(),
  }),
  "duckdb.load_begin": z.object({
    ...target,
    table: name,
    mode: z.enum(["append", "replace", "upsert"]).optional(),
    mergeKey: z.union([name, z.array(name).max(64)]).optional(),
    onSchemaChange: z.enum(["fail", "append_new_columns", "sync_all_columns", "ignore"])
      .optional(),
    columns: z.array(column).min(1).max(10_000),
  }),
  "duckdb.load_file": z.object({ ...target, load: handle, file: loadFile }),
  "duckdb.load_commit": z.object({ ...target, load: handle }),
  "duckdb.load_abort": z.object({ ...target, load: handle }),
};

type Schemas = typeof REQUEST_SCHEMAS;
export type RequestOp = keyof Schemas;

/** The validated arguments of each op, as the engine receives them (the target taken out). */
export type RequestArgs = {
  [Op in RequestOp]: Omit<z.infer<Schemas[Op]>, "connection" | "inline_path">;
};

/** Request ops the trusted side serves; anything else is refused by the supervisor. */
export const REQUEST_OPS: ReadonlySet<string> = new Set(Object.keys(REQUEST_SCHEMAS));

/** Ops that run on a session, so name their target; the others name a cursor or a load. */
export const SESSION_OPS: ReadonlySet<string> = new Set([
  "duckdb.query",
  "duckdb.execute",
  "duckdb.cursor_open",
  "duckdb.load_begin",
]);

export interface ParsedRequest {
  op: string;
  target: { connection: string; inline_path?: string };
  /** The validated payload without its target: what the engine receives. */
  args: Record<string, unknown>;
}

/** Validates one request; throws an Error whose message is fit to show the run. */
export function parseRequest(op: string, payload: Record<string, unknown>): ParsedRequest {
  const schema = Object.hasOwn(REQUEST_SCHEMAS, op)
    ? REQUEST_SCHEMAS[op as keyof typeof REQUEST_SCHEMAS]
    : undefined;
  if (!schema) throw new Error(`Unknown request ${op}`);
  const parsed = schema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "(payload)";
    const problem = issue.code === "invalid_type" ? `expected ${issue.expected}` : issue.message;
    throw new Error(`Invalid request ${op}: ${field}: ${problem}`);
  }
  const { connection, inline_path, ...args } = parsed.data;
  return {
    op,
    target: inline_path === undefined
      ? { connection: connection ?? "" }
      : { connection: connection ?? "", inline_path },
    args,
  };
}
