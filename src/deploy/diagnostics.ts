/**
 * What `deno check` and `deno info` print, read as diagnostics. Deno 2.9 has no JSON output for
 * `deno check`, so its text is split into blocks: a `TS1234 [ERROR]: …` diagnostic or an
 * `error: …` (a syntax or resolution error), each ending in an `at URL:LINE:COLUMN` line.
 */
import type { SourceLocation } from "../core/errors.ts";
import { stripAnsi } from "../sandbox/deno_process.ts";

/** One problem at a place in the author's file (`file` is the name the author knows it by). */
export interface Diagnostic extends SourceLocation {
  /** `TS2322` for a type error, `SyntaxError`, or `import` for an import Tau refuses. */
  code: string;
  message: string;
}

/** A diagnostic as Deno printed it, still at the URL Deno checked. */
export interface RawDiagnostic {
  url: string;
  line: number;
  column: number;
  code: string;
  message: string;
}

const TS_HEADER = /^(TS\d+) \[(?:ERROR|WARN)\]: (.*)$/;
const AT = /^\s*at (\S+):(\d+):(\d+)\s*$/;
// The caret line under a quoted source line (`  ^`, `  ~~~~`, or `  |   ~` in a syntax error).
const MARKER = /^\s*(?:\|\s*)?[~^]+\s*$/;

/**
 * Parses `deno check`/`deno info` output. `other` holds `error:` lines that carry no location
 * (such as Deno's closing "Type checking failed."), so a failure is never dropped unread.
 */
export function parseDenoOutput(text: string): { diagnostics: RawDiagnostic[]; other: string[] } {
  const diagnostics: RawDiagnostic[] = [];
  const other: string[] = [];
  const lines = stripAnsi(text).split("\n");
  let start = -1;
  const flush = (end: number) => {
    if (start < 0) return;
    const block = lines.slice(start, end);
    start = -1;
    const parsed = parseBlock(block);
    const previous = diagnostics.at(-1);
    // Deno prints TypeScript's related information ("Did you forget to use 'await'?") as an
    // indented diagnostic of its own: it belongs to the one before it.
    if (parsed && previous && /^(TS\d+) \[\w+\]:\s{2,}/.test(block[0]!)) {
      previous.message += `\n${parsed.message.trim()}`;
    } else if (parsed) diagnostics.push(parsed);
    else other.push(block[0]!.replace(/^error: /, ""));
  };
  lines.forEach((line, i) => {
    if (TS_HEADER.test(line) || line.startsWith("error: ")) {
      flush(i);
      start = i;
    } else if (start >= 0 && AT.test(line)) {
      flush(i + 1); // the first `at` ends it; related information after it is not kept
    }
  });
  flush(lines.length);
  return {
    diagnostics,
    other: other.filter((line) => !/^Type checking failed\.?$/.test(line.trim())),
  };
}

function parseBlock(block: string[]): RawDiagnostic | null {
  const at = block.findLastIndex((line) => AT.test(line));
  if (at < 0) return null;
  const [, url, line, column] = AT.exec(block[at]!)!;
  const header = block[0]!;
  const ts = TS_HEADER.exec(header);
  let code: string;
  let first: string;
  if (ts) {
    code = ts[1]!;
    first = ts[2]!;
  } else {
    first = header.replace(/^error: /, "");
    const syntax = /^(SyntaxError): (.*)$/.exec(first);
    code = syntax ? "SyntaxError" : "error";
    if (syntax) first = syntax[2]!;
  }
  // Lines between the header and the quoted source (TS message chains, `hint:` lines).
  let end = at;
  if (end - 1 > 0 && MARKER.test(block[end - 1]!)) end -= 2;
  const rest = block.slice(1, Math.max(1, end))
    .filter((l) => !/^\s*\d*\s*\|/.test(l)) // a syntax error's quoted source frame
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  return {
    url: url!,
    line: Number(line),
    column: Number(column),
    code,
    message: [first, ...rest].join("\n"),
  };
}

/** The 1-based line and column of a character offset in `code`. */
export function positionOf(code: string, index: number): { line: number; column: number } {
  const before = code.slice(0, index).split("\n");
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/**
 * The module specifier of the import written at `line:column` of `code` (where Deno points when
 * it cannot resolve one), or null when no import's string literal starts there.
 */
export function importAt(code: string, line: number, column: number): string | null {
  const text = code.split("\n")[line - 1];
  if (text === undefined) return null;
  const quote = text[column - 1];
  if (quote !== '"' && quote !== "'" && quote !== "`") return null;
  const end = text.indexOf(quote, column);
  if (end < 0) return null;
  // The literal follows `from`, `import` or `import(` (possibly on an earlier line).
  const before = code.split("\n").slice(0, line - 1).join("\n") + "\n" + text.slice(0, column - 1);
  if (!/(?:\bfrom|\bimport)\s*\(?\s*$/.test(before)) return null;
  return text.slice(column, end);
}
