/**
 * The pipeline file as its author knows it. Deploy checks a staged copy; everything they report
 * is moved back to the author's file name and to places in the author's text.
 */
import { type SourceLocation, TauError } from "../core/errors.ts";
import { locate } from "../runner/classify.ts";
import { type Diagnostic, importAt, positionOf, type RawDiagnostic } from "./diagnostics.ts";
import { importHint, type RefusedImport, refusedImport } from "./imports.ts";

export interface AuthorFile {
  /** file:// URL of the staged copy the tools checked. */
  url: string;
  /** The name the author knows the file by (e.g. `hello_pipeline.ts`). */
  filename: string;
  code: string;
}

/** The diagnostics in the author's file, under its name (the staged path appears nowhere). */
export function authorDiagnostics(raw: RawDiagnostic[], author: AuthorFile): Diagnostic[] {
  return raw.filter((d) => d.url === author.url).map((d) => ({
    file: author.filename,
    line: d.line,
    column: d.column,
    code: d.code,
    message: d.message.split(author.url).join(author.filename),
  }));
}

/**
 * When a diagnostic points at an import Tau refuses (a sibling file, an unapproved package, a
 * remote module), the error that says so; null when none does.
 */
export function importError(diagnostics: Diagnostic[], author: AuthorFile): TauError | null {
  const refused: (RefusedImport & { location: SourceLocation })[] = [];
  for (const d of diagnostics) {
    const specifier = importAt(author.code, d.line, d.column);
    const why = specifier === null ? null : refusedImport(specifier);
    if (why) refused.push({ ...why, location: { file: d.file, line: d.line, column: d.column } });
  }
  return refused.length > 0 ? refusedImportsError(refused) : null;
}

/** One error for every refused import, located at the first. */
export function refusedImportsError(
  refused: (RefusedImport & { location: SourceLocation | null })[],
): TauError {
  const first = refused[0]!;
  const at = first.location ? ` (${first.location.file}:${first.location.line})` : "";
  return new TauError("invalid_pipeline", `${first.message}${at}`, {
    hint: importHint(first),
    location: first.location,
    details: {
      refused: refused.map((r) => ({
        specifier: r.specifier,
        reason: r.reason,
        message: r.message,
        location: r.location,
      })),
      diagnostics: refused.flatMap((r) =>
        r.location ? [{ ...r.location, code: "import", message: r.message }] : []
      ),
    },
  });
}

/** The first frame of a stack inside the author's file. */
export function stackLocation(stack: string | null, author: AuthorFile): SourceLocation | null {
  return locate(stack, { codeUrl: author.url, filename: author.filename }) ?? null;
}

/**
 * Where the pipeline's config declares `field` (`limits.memoryMb`, `secrets.0`): its key inside
 * the `pipeline({ … })` call, else the call itself; null when the file has no such call.
 */
export function configLocation(
  code: string,
  filename: string,
  field: string,
): SourceLocation | null {
  const call = /\bpipeline\s*\(/.exec(code);
  if (!call) return null;
  const key = field.split(".").filter((part) => !/^\d+$/.test(part)).pop();
  const escaped = key?.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const found = escaped
    ? new RegExp(`["']?\\b${escaped}["']?\\s*:`).exec(code.slice(call.index))
    : null;
  const index = found ? call.index + found.index : call.index;
  return { file: filename, ...positionOf(code, index) };
}

/** The same error, located (errors thrown by shared checks do not know the file). */
export function withLocation(err: unknown, location: SourceLocation | null): unknown {
  if (!(err instanceof TauError) || err.location !== undefined) return err;
  return new TauError(err.code, err.message, {
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
    ...(err.details !== undefined ? { details: err.details } : {}),
    cause: err.cause,
    location,
  });
}
