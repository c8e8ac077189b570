/**
 * Result rows as JSON text, built inside the engine and bounded in bytes: a reply is assembled
 * from each row's own JSON, and refuses a row that would take it past its byte cap, so no result
 * is ever held whole (in the engine) or parsed at all (in the daemon).
 */

const encoder = new TextEncoder();
// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7f]/;

/** Bytes of a string once UTF-8 encoded. */
export function utf8Length(text: string): number {
  return NON_ASCII.test(text) ? encoder.encode(text).length : text.length;
}

/** A JSON array of rows under construction, never larger than `maxBytes`. */
export class JsonRows {
  readonly #rows: string[] = [];
  #bytes = 2; // []

  constructor(readonly maxBytes: number) {}

  get count(): number {
    return this.#rows.length;
  }

  /** UTF-8 bytes of {@link text}. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Adds one row's JSON; false (and nothing added) when it would pass `limit` or the cap. */
  tryAdd(rowJson: string, limit = this.maxBytes): boolean {
    const bytes = utf8Length(rowJson) + (this.#rows.length > 0 ? 1 : 0);
    if (this.#bytes + bytes > Math.min(limit, this.maxBytes)) return false;
    this.#rows.push(rowJson);
    this.#bytes += bytes;
    return true;
  }

  text(): string {
    return `[${this.#rows.join(",")}]`;
  }
}
