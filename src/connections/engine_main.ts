/**
 * The DuckDB engine of one run: its own process, started by the daemon on the run's first DuckDB
 * request (see engine_process.ts) and killed when the run ends, so a query can use only this
 * process's memory and CPU, never the daemon's. It reads request lines on stdin and writes one
 * reply line per request on stdout (engine_protocol.ts); it decides nothing about access — every
 * session's target comes from the daemon. It ends on stdin EOF, so it never outlives the daemon.
 *
 * `--warm` opens an in-memory database once and exits: the daemon runs that to fill the compiler
 * caches every engine's private DENO_DIR starts from.
 */
import { DuckDBRequests } from "./duckdb_requests.ts";
import { errorLine, okLine, type OpenLine, type RequestLine } from "./engine_protocol.ts";
import { readLines } from "./line_reader.ts";
import { errorText } from "../core/errors.ts";

/** How long running statements get to stop after an interrupt before the databases close. */
const CLOSE_GRACE_MS = 500;
/** Input lines come from the daemon: a run's request (under 1 MiB as the run sent it), framed. */
const INPUT_LINE_MAX_BYTES = 8 * 1024 * 1024;

const requests = new DuckDBRequests();

if (Deno.args.includes("--warm")) {
  requests.open(1, {
    path: ":memory:",
    allowedDirectories: [],
    scratch: Deno.cwd(),
    tempDirectory: Deno.cwd(),
  });
  await requests.handle({ id: 1, op: "duckdb.query", session: 1, args: { sql: "SELECT 1" } });
  await requests.closeAll(0);
  Deno.exit(0);
}

const encoder = new TextEncoder();
/** Writes one reply whole; a daemon that stopped reading means the run is over. */
const send = (line: string) => {
  const bytes = encoder.encode(line);
  try {
    for (let sent = 0; sent < bytes.length;) sent += Deno.stdout.writeSync(bytes.subarray(sent));
  } catch {
    Deno.exit(1);
  }
};

for await (const line of readLines(Deno.stdin.readable, INPUT_LINE_MAX_BYTES)) {
  const message = JSON.parse(line) as OpenLine | RequestLine;
  if (message.op === "open") {
    const open = message as OpenLine;
    requests.open(open.session, open.target);
    continue;
  }
  const request = message as RequestLine;
  requests.handle(request).then(
    (value) => send(okLine(request.id, value)),
    (err) => send(errorLine(request.id, errorText(err))),
  );
}
await requests.closeAll(CLOSE_GRACE_MS);
Deno.exit(0);
