/**
 * The one error type of the trusted side. Every failure an agent can see carries a stable
 * `code`, a sentence-case `message`, and where possible a `hint` that says what to do next.
 * `src/api/app.ts` maps it to an HTTP status; the CLI maps it to `{"error": …}` and exit 1.
 */
import { errorText } from "../../sdk/_error_text.ts";

export { errorText };

/** Stable error codes and the HTTP status each maps to. */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_params: 400,
  invalid_pipeline: 422,
  invalid_config: 422,
  invalid_schedule: 422,
  unknown_dependency: 422,
  dependency_cycle: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  name_conflict: 409,
  conflict: 409,
  has_dependents: 409,
  payload_too_large: 413,
  daemon_unreachable: 503,
  sandbox_unavailable: 503,
  ai_not_configured: 503,
  model_unavailable: 502,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** A place in the author's pipeline file, under the name the author knows it by (1-based). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface ErrorBody {
  code: string;
  message: string;
  hint?: string;
  /** Where in the author's file, when the error is about a place in it (null: it is not known). */
  location?: SourceLocation | null;
  details?: unknown;
}

export class TauError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: unknown;
  readonly location: SourceLocation | null | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      hint?: string;
      details?: unknown;
      cause?: unknown;
      location?: SourceLocation | null;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "TauError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
    this.location = options.location;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  toJSON(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (this.hint) body.hint = this.hint;
    if (this.location !== undefined) body.location = this.location;
    if (this.details !== undefined) body.details = this.details;
    return body;
  }
}

/** Turns anything thrown into the wire shape, hiding internals of unexpected errors. */
export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof TauError) return err.toJSON();
  return { code: "internal", message: `Internal error: ${errorText(err)}` };
}
