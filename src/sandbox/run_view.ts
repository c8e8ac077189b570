/**
 * Where a run sees its files inside the OS boundary: the same neutral paths for every run, so
 * nothing it can learn of its own location (`import.meta`, `Deno.cwd()`, `Deno.execPath()`,
 * stack traces) tells where Tau, its home or the run's folders are on the host.
 */
export const RUN_VIEW = {
  code: "/tau/code",
  sdk: "/tau/sdk",
  importMap: "/tau/import_map.json",
  lockFile: "/tau/deno.lock",
  denoDir: "/tau/deno",
  npmDir: "/tau/deno/npm",
  scratch: "/tau/scratch",
  audit: "/tau/audit",
  deno: "/tau/bin/deno",
} as const;
