/**
 * Checks that text is exactly one JSON value (RFC 8259) without building it: the daemon passes
 * an engine's reply value on to the run as text, and must not parse result rows into its own
 * heap just to know they are well formed. One pass over the characters, no allocation.
 */

/** Containers nested deeper than this are refused (DuckDB's nested types are far shallower). */
const MAX_DEPTH = 256;

/** True when `text` holds one JSON value and nothing else but whitespace. */
export function isJsonText(text: string): boolean {
  const end = new JsonScanner(text).value(skipSpace(text, 0), 0);
  return end >= 0 && skipSpace(text, end) === text.length;
}

function skipSpace(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

const ESCAPES = '"\\/bfnrt';
const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** Each method takes a start index and returns the index after what it read, or -1. */
class JsonScanner {
  constructor(private readonly text: string) {}

  value(i: number, depth: number): number {
    const c = this.text.charCodeAt(i);
    if (c === 0x7b) return this.container(i, depth, 0x7d, true); // {
    if (c === 0x5b) return this.container(i, depth, 0x5d, false); // [
    if (c === 0x22) return this.string(i);
    if (c === 0x2d || isDigit(c)) return this.number(i);
    for (const word of ["true", "false", "null"]) {
      if (this.text.startsWith(word, i)) return i + word.length;
    }
    return -1;
  }

  /** An object (members `"key": value`) or an array (elements), comma-separated. */
  container(i: number, depth: number, close: number, object: boolean): number {
    if (depth >= MAX_DEPTH) return -1;
    i = skipSpace(this.text, i + 1);
    if (this.text.charCodeAt(i) === close) return i + 1;
    for (;;) {
      if (object) {
        i = this.string(i);
        if (i < 0) return -1;
        i = skipSpace(this.text, i);
        if (this.text.charCodeAt(i) !== 0x3a) return -1; // :
        i = skipSpace(this.text, i + 1);
      }
      i = this.value(i, depth + 1);
      if (i < 0) return -1;
      i = skipSpace(this.text, i);
      const c = this.text.charCodeAt(i);
      if (c === close) return i + 1;
      if (c !== 0x2c) return -1; // ,
      i = skipSpace(this.text, i + 1);
    }
  }

  string(i: number): number {
    if (this.text.charCodeAt(i) !== 0x22) return -1;
    for (i++; i < this.text.length; i++) {
      const c = this.text.charCodeAt(i);
      if (c === 0x22) return i + 1;
      if (c < 0x20) return -1;
      if (c !== 0x5c) continue; // backslash
      const e = this.text.charCodeAt(++i);
      if (e === 0x75) { // \uXXXX
        for (let k = 1; k <= 4; k++) if (!isHex(this.text.charCodeAt(i + k))) return -1;
        i += 4;
      } else if (!ESCAPES.includes(String.fromCharCode(e))) return -1;
    }
    return -1;
  }

  /** `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?` */
  number(i: number): number {
    const t = this.text;
    if (t.charCodeAt(i) === 0x2d) i++;
    if (t.charCodeAt(i) === 0x30) i++;
    else if (isDigit(t.charCodeAt(i))) { while (isDigit(t.charCodeAt(i))) i++; }
    else return -1;
    if (t.charCodeAt(i) === 0x2e) {
      if (!isDigit(t.charCodeAt(++i))) return -1;
      while (isDigit(t.charCodeAt(i))) i++;
    }
    if (t.charCodeAt(i) === 0x65 || t.charCodeAt(i) === 0x45) {
      i++;
      if (t.charCodeAt(i) === 0x2b || t.charCodeAt(i) === 0x2d) i++;
      if (!isDigit(t.charCodeAt(i))) return -1;
      while (isDigit(t.charCodeAt(i))) i++;
    }
    return i;
  }
}
