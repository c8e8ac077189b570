/** The schema check both stores make before migrating. */
import { TauError } from "../core/errors.ts";

/** Refuses a database migrated by a newer Tau: `newest` version applied, `latest` known here. */
export function assertKnownSchema(database: string, newest: number, latest: number): void {
  if (newest <= latest) return;
  throw new TauError(
    "internal",
    `The database ${database} has schema version ${newest}; this Tau knows up to ${latest}`,
    { hint: "Upgrade Tau, or point it at another database" },
  );
}
