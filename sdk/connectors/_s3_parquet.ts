/**
 * Parquet objects are read through DuckDB: the object is written into the run's scratch
 * folder and the run's inline DuckDB (on Tau's trusted side, allowed exactly that folder)
 * reads it with `read_parquet`. This needs a Tau run; there is no JavaScript Parquet parser.
 */
import { duckdb } from "./duckdb.ts";
import { ConnectorError, type Row } from "./types.ts";

export async function* readParquet(
  body: ReadableStream<Uint8Array>,
  target: string,
  batchSize: number,
): AsyncIterable<Row[]> {
  const path = await Deno.makeTempFile({ dir: Deno.cwd(), prefix: "tau_s3_", suffix: ".parquet" });
  try {
    await Deno.writeFile(path, body);
    await using db = duckdb();
    try {
      yield* db.extractStream({
        query: "SELECT * FROM read_parquet($1)",
        params: [path],
        batchSize,
      });
    } catch (err) {
      const message = (err as Error).message;
      throw new ConnectorError(
        message.includes("channel used before init")
          ? `s3: ${target} is Parquet, which is read through DuckDB and needs a Tau run`
          : `s3: reading Parquet ${target} failed: ${message}`,
        { cause: err },
      );
    }
  } finally {
    await Deno.remove(path).catch(() => {});
  }
}
