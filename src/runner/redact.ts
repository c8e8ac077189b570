/** Removes secret values handed to a run from everything stored about it. */

/** Values shorter than this are not redacted: they would mangle ordinary text. */
export const MIN_SECRET_LENGTH = 4;

export type Redactor = <T>(value: T) => T;

/** Builds a redactor from `label → value` pairs (a label may appear more than once). */
export function makeRedactor(
  secrets: Readonly<Record<string, string>> | [string, string][],
): Redactor {
  const pairs = (Array.isArray(secrets) ? secrets : Object.entries(secrets))
    .filter(([, value]) => value.length >= MIN_SECRET_LENGTH)
    // Longest first, so a secret containing another is replaced whole.
    .sort((a, b) => b[1].length - a[1].length);
  if (pairs.length === 0) return (value) => value;
  const redactString = (text: string) =>
    pairs.reduce((acc, [name, value]) => acc.split(value).join(`[REDACTED:${name}]`), text);
  const walk = (value: unknown): unknown => {
    if (typeof value === "string") return redactString(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [redactString(k), walk(v)]));
    }
    return value;
  };
  return <T>(value: T) => walk(value) as T;
}
