/**
 * What a pipeline may import, said in words an author can act on: when an import is refused,
 * the error names the import and the rule, not whatever broke downstream of it (a resolver
 * message, a registry's TLS error).
 */
import { APPROVED_DRIVERS } from "../sandbox/npm_cache.ts";

/** The names a pipeline imports the approved drivers by (their import-map names). */
export const APPROVED_IMPORTS: readonly string[] = Object.keys(APPROVED_DRIVERS);

/** The SDK's entry points. */
const SDK_IMPORTS = ["tau", "tau/connectors", "tau/materializations"];

export interface RefusedImport {
  /** What the file wrote, e.g. `./helpers.ts` or `npm:left-pad`. */
  specifier: string;
  /** `single_file`, `not_approved` or `remote`. */
  reason: "single_file" | "not_approved" | "remote";
  message: string;
}

const ALLOWED = `a pipeline may import only ${
  SDK_IMPORTS.map((s) => `"${s}"`).join(", ")
}, node: built-ins and the approved packages`;

/** Why `specifier` is refused, or null when it is one a pipeline may import. */
export function refusedImport(specifier: string): RefusedImport | null {
  if (SDK_IMPORTS.includes(specifier) || specifier.startsWith("tau/")) return null;
  if (specifier.startsWith("node:") || APPROVED_IMPORTS.includes(specifier)) return null;
  if (/^(\.{1,2}\/|\/|file:)/.test(specifier)) {
    return {
      specifier,
      reason: "single_file",
      message: `Pipelines are single files: the import of ${specifier} is refused`,
    };
  }
  if (/^(https?|jsr|data|blob):/.test(specifier)) {
    return {
      specifier,
      reason: "remote",
      message: `A pipeline cannot import remote modules: ${specifier}`,
    };
  }
  const name = packageName(specifier);
  return {
    specifier,
    reason: "not_approved",
    message: APPROVED_IMPORTS.includes(name)
      ? `Import the approved package ${name} by its name, "${name}", not ${specifier}`
      : `The npm package ${name} is not approved for pipelines`,
  };
}

/** The hint for a refused import: what to do instead. */
export function importHint(refused: RefusedImport): string {
  switch (refused.reason) {
    case "single_file":
      return `move what the pipeline needs from ${refused.specifier} into the pipeline file ` +
        `itself (a deployed pipeline is one file); read data at run time through ` +
        `ctx.connection() or files in its scratch folder`;
    case "remote":
      return `${ALLOWED}; approved packages: ${APPROVED_IMPORTS.join(", ")}`;
    case "not_approved":
      return `${ALLOWED}, by these names: ${APPROVED_IMPORTS.join(", ")}; ` +
        `the connectors in "tau/connectors" cover PostgreSQL, MySQL, DuckDB, S3, HTTP APIs and more`;
  }
}

/** `npm:@scope/pkg@1.2.3/sub` or `@scope/pkg/sub` → `@scope/pkg` (`mysql2/promise` stays whole). */
function packageName(specifier: string): string {
  const bare = specifier.replace(/^npm:\/?/, "");
  if (APPROVED_IMPORTS.includes(bare)) return bare;
  const match = /^((?:@[^/@]+\/)?[^/@]+)(?:@[^/]*)?(\/.*)?$/.exec(bare);
  if (!match) return bare;
  const withSub = `${match[1]}${match[2] ?? ""}`;
  return APPROVED_IMPORTS.includes(withSub) ? withSub : match[1]!;
}
