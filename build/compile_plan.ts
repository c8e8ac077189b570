/** What build/compile.ts builds from, apart from the build itself (so a test can check it). */

/** The `--target`s `deno compile` supports. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
];

/**
 * The CLI's modules imported by a URL built at run time (so a `deno run` start does not load
 * them): `deno compile` cannot see them, and they are embedded by name.
 * tests/compile_plan_test.ts fails when src/cli imports one that is not listed.
 */
export const CLI_LATE_MODULES = [
  "src/cli/help.ts",
  "src/cli/help_sdk.ts",
  "src/guide/mod.ts",
  "src/mcp/stdio.ts",
  "src/sandbox/npm_cache.ts",
];
