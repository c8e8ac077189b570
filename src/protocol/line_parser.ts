/**
 * Splits a child's stdout into lines and sorts each into a protocol event, plain text, or a
 * rejected line. Lines are capped in length so a child cannot make the parent buffer without
 * bound; only lines behind this run's nonce are parsed as protocol at all.
 */
import { type ChildEvent, eventSchema } from "./events.ts";

export type ParsedLine =
  | {
    kind: "event";
    event: ChildEvent; /** Characters of the line, newline included. */
    size: number;
  }
  | { kind: "text"; text: string }
  | { kind: "invalid"; reason: string; text: string };

/** @default 1 MiB: a result larger than this is refused. */
export const MAX_LINE_CHARS = 1024 * 1024;

export class LineParser {
  readonly #prefix: string;
  readonly #maxLine: number;
  #buffer = "";
  #dropping = false;

  constructor(nonce: string, options: { maxLineChars?: number } = {}) {
    this.#prefix = `@tau:${nonce} `;
    this.#maxLine = options.maxLineChars ?? MAX_LINE_CHARS;
  }

  /** Feeds decoded text; returns every complete line found so far. */
  push(chunk: string): ParsedLine[] {
    const out: ParsedLine[] = [];
    let start = 0;
    for (let nl = chunk.indexOf("\n"); nl !== -1; nl = chunk.indexOf("\n", start)) {
      this.#append(chunk.slice(start, nl), out);
      if (!this.#dropping) out.push(this.#parse(this.#buffer));
      this.#buffer = "";
      this.#dropping = false;
      start = nl + 1;
    }
    this.#append(chunk.slice(start), out);
    return out;
  }

  /** Returns the unterminated last line, if any. */
  end(): ParsedLine[] {
    const rest = this.#dropping || this.#buffer === "" ? [] : [this.#parse(this.#buffer)];
    this.#buffer = "";
    this.#dropping = false;
    return rest;
  }

  #append(piece: string, out: ParsedLine[]): void {
    if (this.#dropping) return;
    if (this.#buffer.length + piece.length <= this.#maxLine) {
      this.#buffer += piece;
      return;
    }
    out.push({
      kind: "invalid",
      reason: `line longer than ${this.#maxLine} characters was dropped`,
      text: (this.#buffer + piece).slice(0, 200),
    });
    this.#buffer = "";
    this.#dropping = true;
  }

  #parse(line: string): ParsedLine {
    if (!line.startsWith(this.#prefix)) return { kind: "text", text: line };
    let json: unknown;
    try {
      json = JSON.parse(line.slice(this.#prefix.length));
    } catch {
      return { kind: "invalid", reason: "protocol line is not JSON", text: line.slice(0, 200) };
    }
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        kind: "invalid",
        reason: `protocol event rejected: ${issue?.path.join(".")} ${issue?.message}`,
        text: line.slice(0, 200),
      };
    }
    return { kind: "event", event: parsed.data, size: line.length + 1 };
  }
}
