/**
 * Removes secret values handed to a run from everything stored about it: log lines, step
 * metadata, results and error messages.
 *
 * A secret is redacted as its plain value and as each encoding in {@link REDACTED_ENCODINGS}
 * (the "needles"), wherever it occurs in a string or an object key, and is replaced by
 * `[REDACTED:<label>]`. Overlapping occurrences (of one secret or several) are merged into one
 * redacted range whose markers name, in order, every label whose occurrence extends the range
 * (a secret found inside another adds nothing). Redacting text that is already redacted
 * changes nothing: existing markers for this redactor's labels are skipped.
 *
 * The plain value counts from {@link MIN_SECRET_LENGTH} characters, an encoding from
 * {@link MIN_ENCODED_LENGTH}; shorter needles would mangle ordinary text. Each line of a
 * multi-line secret (a PEM key, say) is a needle of its own too, because a child's output is
 * stored line by line.
 *
 * Anything stored with a length cap is redacted first and cut after ({@link Redactor.clip}), so
 * a secret placed across the cut cannot survive minus its last characters.
 *
 * Secrets split over several log lines are handled by `LogWriter`, with {@link Redactor.find}
 * and {@link Redactor.tracker}.
 *
 * This guards against accidental exposure. A run can read its secrets, so code set on leaking
 * one can always transform it in a way no list of encodings covers.
 */

import { base64 } from "../core/base64.ts";
import { copyJson } from "../core/json_copy.ts";

/** Values shorter than this are not redacted: they would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 4;

/** An encoding of a secret shorter than this is not looked for. */
export const MIN_ENCODED_LENGTH = 6;

/**
 * The forms of a secret that are redacted, each only when at least {@link MIN_ENCODED_LENGTH}
 * characters long (the plain value: {@link MIN_SECRET_LENGTH}). Byte encodings (hex, base64)
 * work on the value's UTF-8 bytes. Numbers are not strings and are not redacted.
 */
export const REDACTED_ENCODINGS: readonly { name: string; description: string }[] = [
  { name: "plain", description: "the value itself" },
  {
    name: "json",
    description: "JSON string escaping: `JSON.stringify(value)` without its quotes",
  },
  {
    name: "json-ascii",
    description:
      "JSON string escaping with every non-ASCII character as `\\uXXXX` (lowercase hex), as " +
      "Python's `json.dumps` writes it",
  },
  { name: "url", description: "`encodeURIComponent(value)` (uppercase hex in `%XX`)" },
  { name: "url-lower", description: "`encodeURIComponent(value)` with lowercase hex in `%xx`" },
  {
    name: "form",
    description:
      "`application/x-www-form-urlencoded` as `URLSearchParams` writes it: space as `+`, " +
      "everything but `A-Z a-z 0-9 * - . _` as `%XX`",
  },
  { name: "form-plus", description: "`encodeURIComponent(value)` with `%20` written as `+`" },
  { name: "hex", description: "hexadecimal, lowercase" },
  { name: "hex-upper", description: "hexadecimal, uppercase" },
  { name: "base64", description: "standard base64, with and without `=` padding" },
  { name: "base64url", description: "base64url (`-` and `_`), with and without `=` padding" },
  {
    name: "base64-inner",
    description:
      "inside a longer standard or url-safe base64 string, the value starting at any of the " +
      "three byte offsets modulo 3: the characters that depend on the value's bytes only (this " +
      "covers the password in an HTTP Basic `base64(user:password)` credential)",
  },
];

/** A range of a text to redact: `[start, end)`, and the labels of the secrets found there. */
export interface Redaction {
  start: number;
  end: number;
  labels: string[];
  /** Only the beginning of a secret, cut off by the end of the text it was found in. */
  part?: boolean;
}

/** {@link Redactor.pendingLength} of a stream of text, read piece by piece. */
export interface PrefixTracker {
  /** Reads `text` after what was pushed before; returns the pending length of the whole. */
  push(text: string): number;
  /** Forgets everything pushed so far. */
  reset(): void;
}

export interface Redactor {
  /**
   * `value` with every secret replaced, in strings and object keys, at any depth (the walk
   * keeps its own stack: no recursion).
   */
  <T>(value: T): T;
  /**
   * `text` redacted, then cut to at most `max` characters (never inside a redaction marker);
   * a cut text ends with `…`.
   */
  clip(text: string, max: number): string;
  /** Where secrets occur in `text`, in order, overlapping occurrences merged. */
  find(text: string): Redaction[];
  /**
   * Length of the longest end of `text` that a secret (or an encoding of one) could start
   * with and go on past the end: 0 when text following `text` cannot complete a secret begun
   * in it.
   */
  pendingLength(text: string): number;
  /** Follows a stream of text pushed in pieces: `pendingLength` of all of it so far. */
  tracker(): PrefixTracker;
  /** The label of a secret that the last `length` characters of `text` could begin. */
  pendingLabel(text: string, length: number): string;
  /** Length of the longest needle, in UTF-16 code units (0 without secrets). */
  readonly maxNeedleLength: number;
}

/** Builds a redactor from `label → value` pairs (a label may appear more than once). */
export function makeRedactor(
  secrets: Readonly<Record<string, string>> | [string, string][],
): Redactor {
  const pairs = (Array.isArray(secrets) ? secrets : Object.entries(secrets))
    .flatMap(([label, value]): [string, string][] => [
      [label, value],
      ...linesOf(value).map((line): [string, string] => [label, line]),
    ])
    .filter(([, value]) => value.length >= MIN_SECRET_LENGTH);
  // label of each needle; the first secret to produce a needle names it.
  const labels = new Map<string, string>();
  for (const [label, value] of pairs) {
    for (const needle of needlesOf(value)) if (!labels.has(needle)) labels.set(needle, label);
  }
  if (labels.size === 0) return noRedaction();

  // Longest first: at one position the longest needle wins. Markers come before everything,
  // so redacting twice leaves the first result alone.
  const needles = [...labels.keys()].sort((a, b) => b.length - a.length);
  const markerLabels = [...new Set(labels.values())].map(escapeRegExp).join("|");
  const marker = `\\[REDACTED:(?:${markerLabels})(?::part)?\\]`;
  const pattern = new RegExp(`(${marker})|${needles.map(escapeRegExp).join("|")}`, "g");

  const find = (text: string): Redaction[] => {
    const found: Redaction[] = [];
    pattern.lastIndex = 0;
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (m[1] !== undefined) continue; // a marker: lastIndex is already past it
      const start = m.index, end = start + m[0].length;
      const label = labels.get(m[0])!;
      const last = found[found.length - 1];
      if (last && start < last.end) {
        // A secret inside one already found adds nothing; one going on past it, its label.
        if (end > last.end) {
          last.end = end;
          if (!last.labels.includes(label)) last.labels.push(label);
        }
      } else found.push({ start, end, labels: [label] });
      // Also find occurrences that start inside this one.
      pattern.lastIndex = start + 1;
    }
    return found;
  };

  const tracker = prefixAutomaton(needles);
  const pendingLength = (text: string) => tracker().push(text);
  const redactString = (text: string) => maskText(text, find(text));
  const redact = (<T>(value: T) => copyJson(value, { string: redactString }) as T) as Redactor;
  return Object.assign(redact, {
    clip: (text: string, max: number) => cut(redactString(text), max),
    find,
    pendingLength,
    tracker,
    pendingLabel: (text: string, length: number) => {
      const end = text.slice(text.length - length);
      const needle = needles.find((n) => n.startsWith(end));
      return needle === undefined ? "secret" : labels.get(needle)!;
    },
    maxNeedleLength: needles[0]!.length,
  });
}

/** `text` cut to at most `max` characters, never inside a `[REDACTED:…]` marker, `…` if cut. */
export function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  const open = text.lastIndexOf("[REDACTED:", end);
  if (open !== -1 && text.indexOf("]", open) >= end) end = open;
  return text.slice(0, end) + "…";
}

/** A redactor without secrets: changes nothing. */
export function noRedaction(): Redactor {
  const redact = (<T>(value: T) => value) as Redactor;
  return Object.assign(redact, {
    clip: cut,
    find: () => [],
    pendingLength: () => 0,
    tracker: () => ({ push: () => 0, reset: () => {} }),
    pendingLabel: () => "secret",
    maxNeedleLength: 0,
  });
}

/**
 * `text`, taken to start at `offset` of a longer text that `redactions` (sorted, not
 * overlapping) were found in, with each redacted range replaced by its markers. A range cut
 * by either end of `text` is a piece of a secret: its marker reads `[REDACTED:<label>:part]`.
 */
export function maskText(text: string, redactions: readonly Redaction[], offset = 0): string {
  let out = "";
  let pos = 0;
  for (const r of redactions) {
    const start = Math.max(r.start - offset, 0);
    const end = Math.min(r.end - offset, text.length);
    if (end <= start) continue;
    const part = r.part || r.start < offset || r.end > offset + text.length ? ":part" : "";
    out += text.slice(pos, start) + r.labels.map((label) => `[REDACTED:${label}${part}]`).join("");
    pos = end;
  }
  return pos === 0 ? text : out + text.slice(pos);
}

/**
 * Sorts redactions by start and merges the overlapping ones: a range inside another is
 * dropped, one going on past another adds its labels (in order, once each).
 */
export function mergeRedactions(redactions: readonly Redaction[]): Redaction[] {
  const sorted = [...redactions].sort((a, b) => a.start - b.start || b.end - a.end);
  const out: Redaction[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start < last.end) {
      if (r.end <= last.end) continue;
      last.end = r.end;
      if (r.part) last.part = true;
      for (const label of r.labels) if (!last.labels.includes(label)) last.labels.push(label);
    } else out.push({ ...r, labels: [...r.labels] });
  }
  return out;
}

/** The lines of a multi-line value, without their line ends (none for a one-line value). */
function linesOf(value: string): string[] {
  if (!value.includes("\n")) return [];
  return value.split("\n").map((line) => line.replace(/\r$/, ""));
}

/** The plain value and its encodings (see {@link REDACTED_ENCODINGS}) long enough to look for. */
function needlesOf(value: string): Set<string> {
  const encoded = new Set<string>();
  const add = (s: string | null) => {
    if (s !== null && s.length >= MIN_ENCODED_LENGTH) encoded.add(s);
  };
  const json = JSON.stringify(value).slice(1, -1);
  add(json);
  add(
    json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
  );
  const url = tryOr(() => encodeURIComponent(value));
  if (url !== null) {
    add(url);
    add(url.replace(/%[0-9A-F]{2}/g, (s) => s.toLowerCase()));
    add(url.replaceAll("%20", "+"));
  }
  add(new URLSearchParams([["", value]]).toString().slice(1));
  const bytes = new TextEncoder().encode(value);
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  add(hex);
  add(hex.toUpperCase());
  const full = base64(bytes);
  const unpadded = full.replace(/=+$/, "");
  for (const b64 of [full, unpadded]) {
    add(b64);
    add(toBase64Url(b64));
  }
  for (let offset = 0; offset < 3; offset++) {
    const padded = new Uint8Array(offset + bytes.length + 3);
    padded.set(bytes, offset);
    const start = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const inner = base64(padded).slice(start, end);
    add(inner);
    add(toBase64Url(inner));
  }
  encoded.delete(value);
  return new Set([value, ...encoded]);
}

function toBase64Url(b64: string): string {
  return b64.replaceAll("+", "-").replaceAll("/", "_");
}

function tryOr<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null; // encodeURIComponent throws on a lone surrogate
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&");
}

/**
 * Aho–Corasick over the needles, used only for its state: the longest end of the text read so
 * far that is the beginning of a needle. That end is never longer than the longest needle, so
 * of a text at least that long only its last `longest` characters need reading.
 */
function prefixAutomaton(needles: readonly string[]): () => PrefixTracker {
  // Node 0 is the root. Edges from the root are in `rootNext` (0: none); the others are in
  // `next`, keyed `node * 65536 + char code`.
  const rootNext = new Int32Array(65536);
  const next = new Map<number, number>();
  const depth = [0];
  const hasChild = [false];
  const children: number[][] = [[]];
  const edge = [0];
  const child = (node: number, code: number): number | undefined =>
    node === 0 ? (rootNext[code] || undefined) : next.get(node * 65536 + code);
  for (const needle of needles) {
    let node = 0;
    for (let i = 0; i < needle.length; i++) {
      const code = needle.charCodeAt(i);
      let to = child(node, code);
      if (to === undefined) {
        to = depth.length;
        if (node === 0) rootNext[code] = to;
        else next.set(node * 65536 + code, to);
        depth.push(depth[node]! + 1);
        hasChild.push(false);
        children.push([]);
        edge.push(code);
        hasChild[node] = true;
        children[node]!.push(to);
      }
      node = to;
    }
  }
  const fail = new Int32Array(depth.length);
  const step = (node: number, code: number): number => {
    while (node !== 0) {
      const to = next.get(node * 65536 + code);
      if (to !== undefined) return to;
      node = fail[node]!;
    }
    return rootNext[code]!;
  };
  // Failure links and, per node, the depth of the deepest node on its failure chain (itself
  // included) that a longer needle goes on from: how much of the end may still be completed.
  const open = new Int32Array(depth.length);
  const queue = [...children[0]!];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const to of children[node]!) {
      fail[to] = node === 0 ? 0 : step(fail[node]!, edge[to]!);
      queue.push(to);
    }
    open[node] = hasChild[node] ? depth[node]! : open[fail[node]!]!;
  }
  const longest = needles[0]?.length ?? 0;
  const read = (node: number, text: string): number => {
    let i = 0;
    if (text.length >= longest) {
      node = 0;
      i = text.length - longest;
    }
    for (; i < text.length; i++) node = step(node, text.charCodeAt(i));
    return node;
  };
  return () => {
    let node = 0;
    return {
      push: (text) => open[node = read(node, text)]!,
      reset: () => void (node = 0),
    };
  };
}
