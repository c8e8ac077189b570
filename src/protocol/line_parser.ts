/**
 * Splits a child's stdout into lines and sorts each into a protocol event, plain text, or a
 * rejected line. Lines are capped in length so a child cannot make the parent buffer without
 * bound; only lines behind this run's nonce are parsed as protocol at all, and an event whose
 * result, metadata or payload nests deeper than MAX_JSON_DEPTH is rejected before anything
 * walks it.
 */
import { jsonDepthViolation, MAX_LINE_CHARS } from "../../sdk/_limits.ts";
import { type ChildEvent, eventSchema, nestedPart } from "./events.ts";

export type ParsedLine =
  | {
    kind: "event";
    event: ChildEvent; /** Characters of the line, newline included. */
    size: number;
  }
  | { kind: "text"; text: string }
  | {
    kind: "invalid";
    reason: string;
    /** The start of the line (not redacted: the caller redacts before storing any of it). */
    text: string;
    /** The event type a rejected protocol line announced (`result`, `step_end`…), if any. */
    eventType: string | null;
    /** Its step `seq`, when it announced one. */
    seq: number | null;
  };

export { MAX_LINE_CHARS };

/** Characters of a rejected line kept for its log entry (it is redacted, then clipped). */
const SNIPPET_CHARS = 64 * 1024;

export class LineParser {
  readonly #prefix: string;
  readonly #maxLine: number;
  #buffer = "";
  #dropping = false;

  constructor(nonce: string, options: { maxLineChars?: number } = {}) {
    this.#prefix = `@tau:${nonce} `;
    this.#maxLine = options.maxLineChars ?? MAX_LINE_CHARS;
  }

  /** Characters of the line read so far but not complete yet (0 while one is dropped). */
  get pendingChars(): number {
    return this.#dropping ? 0 : this.#buffer.length;
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
    const start = (this.#buffer + piece.slice(0, SNIPPET_CHARS)).slice(0, SNIPPET_CHARS);
    out.push({
      kind: "invalid",
      reason: `line longer than ${this.#maxLine} characters was dropped`,
      text: start,
      ...this.#announced(start, null),
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
      return this.#rejected("protocol line is not JSON", line, null);
    }
    const parsed = eventSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.#rejected(
        `protocol event rejected: ${issue?.path.join(".")} ${issue?.message}`,
        line,
        json,
      );
    }
    const tooDeep = jsonDepthViolation(nestedPart(parsed.data));
    if (tooDeep) return this.#rejected(`protocol event rejected: ${tooDeep}`, line, json);
    return { kind: "event", event: parsed.data, size: line.length + 1 };
  }

  #rejected(reason: string, line: string, json: unknown): ParsedLine {
    const text = line.slice(0, SNIPPET_CHARS);
    return { kind: "invalid", reason, text, ...this.#announced(text, json) };
  }

  /** What a rejected protocol line said it was: from its JSON, or from how it starts. */
  #announced(text: string, json: unknown): { eventType: string | null; seq: number | null } {
    if (!text.startsWith(this.#prefix)) return { eventType: null, seq: null };
    const fields = (json !== null && typeof json === "object" ? json : {}) as Record<
      string,
      unknown
    >;
    const type = typeof fields.type === "string"
      ? fields.type
      : /^\{"type":"(\w{1,20})"/.exec(text.slice(this.#prefix.length))?.[1] ?? null;
    const seq = Number.isInteger(fields.seq) ? fields.seq as number : null;
    return { eventType: type, seq };
  }
}
