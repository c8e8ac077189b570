/**
 * How a DuckDB load moves its rows: the run writes each batch as a JSON array of row objects to
 * a file in its scratch folder, and its DuckDB engine inserts the file with DuckDB's own JSON
 * reader, each column read as the table's type (src/connections/duckdb_requests.ts). No row
 * crosses the run's channel or is parsed by the daemon; the files count against the run's disk
 * limit like any other, and at most a few exist at a time.
 */
import type { Row } from "./types.ts";

/** The folder, in the run's scratch folder, that staged files are written to. */
export const LOAD_FOLDER = ".tau_load";
/** Rows a staged file holds at most. */
export const FILE_ROWS = 50_000;
/** About how large a staged file grows before its batch is split further. */
const FILE_MAX_CHARS = 8 * 1024 * 1024;

/** Writes one load's files: `<load>_<n>.json`, the names the trusted side accepts. */
export class LoadStager {
  readonly #folder: string;
  readonly #load: number;
  #made = false;
  #count = 0;
  #rowsPerFile = FILE_ROWS;

  constructor(load: number, scratch: string) {
    this.#load = load;
    this.#folder = `${scratch}/${LOAD_FOLDER}`;
  }

  /**
   * A batch as JSON texts of up to 50,000 rows and about 8 MiB each; a row larger than that is
   * a file of its own. The first text too large sets a smaller share of rows for the rest.
   */
  *texts(batch: Row[]): Iterable<string> {
    for (let start = 0; start < batch.length;) {
      const rows = batch.slice(start, start + this.#rowsPerFile);
      const text = rowsJson(rows);
      if (text.length > FILE_MAX_CHARS && rows.length > 1) {
        this.#rowsPerFile = Math.max(1, Math.floor(rows.length * FILE_MAX_CHARS / text.length));
        continue;
      }
      start += rows.length;
      yield text;
    }
  }

  /** Writes a text to a new file; resolves with its name. */
  async write(text: string): Promise<string> {
    if (!this.#made) await Deno.mkdir(this.#folder, { recursive: true });
    this.#made = true;
    const file = `${this.#load}_${++this.#count}.json`;
    await Deno.writeTextFile(`${this.#folder}/${file}`, text);
    return file;
  }

  /** Removes a file once the engine has read it (a file already gone is no error). */
  async remove(file: string): Promise<void> {
    await Deno.remove(`${this.#folder}/${file}`).catch(() => {});
  }
}

/** JSON has no bigint: one is written as its decimal text, which DuckDB casts back exactly. */
function rowsJson(rows: Row[]): string {
  try {
    return JSON.stringify(rows);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    return JSON.stringify(rows, (_, value) => typeof value === "bigint" ? String(value) : value);
  }
}
