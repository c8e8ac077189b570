/** True when a path exists. (`node:fs` is avoided: loading it costs the CLI ~20 ms per start.) */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
