/** Connection URLs of the PostgreSQL store, kept apart from the driver so reading them is cheap. */

/** `postgres://` or `postgresql://`, the schemes that select the PostgreSQL store. */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/** The URL without its password or query, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    parsed.search = "";
    return parsed.href;
  } catch {
    return "(an unparsable URL)";
  }
}
