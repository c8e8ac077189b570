/** Numbered lines of code around a location, the way an agent reads them. */

/** Lines shown on each side of the located one. */
const AROUND = 3;

/**
 * The lines `line - 3 … line + 3` of `code`, each as `  12 | text`, the located one marked
 * `> 12 | text`; null when the line is outside the code.
 */
export function excerpt(code: string, line: number): string | null {
  const lines = code.split("\n");
  if (line < 1 || line > lines.length) return null;
  const first = Math.max(1, line - AROUND);
  const last = Math.min(lines.length, line + AROUND);
  const width = String(last).length;
  const shown: string[] = [];
  for (let n = first; n <= last; n++) {
    shown.push(`${n === line ? ">" : " "} ${String(n).padStart(width)} | ${lines[n - 1]}`);
  }
  return shown.join("\n");
}

/** The text of one line (1-based), or null. */
export function codeLine(code: string, line: number): string | null {
  return code.split("\n")[line - 1] ?? null;
}
