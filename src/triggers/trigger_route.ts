/**
 * `POST /api/v1/pipelines/:name/trigger`: the one API route that takes no API key. It is for
 * systems that cannot hold one (a SaaS webhook, a CI job, a form): the delivery is signed with
 * the pipeline's trigger secret instead (signature.ts). `createApp` mounts it ahead of the
 * key-checked API and `auth.ts` names it in `SIGNED_ROUTES`; the key-in-URL refusal still applies.
 *
 * The order of the checks keeps a flood of forged deliveries cheap: bounded body, header syntax
 * and the timestamp window (no I/O), one indexed read of the secret, one HMAC; only a verified
 * delivery is parsed, recorded and run.
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { TauError } from "../core/errors.ts";
import type { RunManager } from "../runner/run_manager.ts";
import type { Store } from "../store/mod.ts";
import {
  DELIVERY_RETENTION_MS,
  DOCS_HINT,
  EVENT_ID_HEADER,
  MAX_TRIGGER_BODY_BYTES,
  parseEvent,
  parseEventId,
} from "./delivery.ts";
import {
  inWindow,
  matchingSignature,
  parseSignatureHeader,
  SIGNATURE_HEADER,
  TOLERANCE_S,
} from "./signature.ts";

/** The route under /api/v1, as `SIGNED_ROUTES` names it. */
export const TRIGGER_PATH = "/pipelines/:name/trigger";

/** The trigger a run created this way carries (`tau inspect` shows it). */
export const EXTERNAL_TRIGGER = "external";

/** Longest pipeline name looked up. */
const MAX_NAME_CHARS = 200;

export interface TriggerRouteDeps {
  store: Store;
  runs: Pick<RunManager, "prepare" | "dispatch">;
  /** The daemon's clock. @default {() => new Date()} */
  now?: () => Date;
}

function refused(message: string, hint: string): TauError {
  return new TauError("unauthorized", message, { hint });
}

/** The signed trigger route, to mount at /api/v1 before anything that asks for a key. */
export function signedTriggerRoutes(deps: TriggerRouteDeps): Hono {
  const { store, runs } = deps;
  const clock = deps.now ?? (() => new Date());
  const app = new Hono();

  app.post(
    TRIGGER_PATH,
    bodyLimit({
      maxSize: MAX_TRIGGER_BODY_BYTES,
      onError: () => {
        throw new TauError(
          "payload_too_large",
          `A trigger body is at most ${MAX_TRIGGER_BODY_BYTES} bytes`,
          { hint: "send references (ids, dates, paths) and let the run fetch the data" },
        );
      },
    }),
    async function tauSignedTrigger(c) {
      const name = c.req.param("name");
      const header = parseSignatureHeader(c.req.header(SIGNATURE_HEADER));
      if (!header) {
        throw refused(
          `Missing or malformed ${SIGNATURE_HEADER} header`,
          `send ${SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" ` +
            `keyed with the pipeline's trigger secret>; ${DOCS_HINT}`,
        );
      }
      const eventId = parseEventId(c.req.header(EVENT_ID_HEADER));
      const now = clock();
      if (!inWindow(header.t, now)) {
        throw refused(
          `The ${SIGNATURE_HEADER} timestamp is more than ${TOLERANCE_S / 60} minutes from ` +
            "the daemon's clock",
          "sign every delivery (retries too) with the current time in Unix seconds, " +
            "and check the sender's clock",
        );
      }
      const body = new Uint8Array(await c.req.arrayBuffer());
      const stored = name.length <= MAX_NAME_CHARS ? await store.getTriggerSecret(name) : null;
      if (!stored) {
        // The same answer for "no such pipeline" and "no secret": nothing to tell them apart.
        throw new TauError("not_found", `Pipeline ${name} takes no external triggers`, {
          hint: `an admin enables them with tau trigger ${name} --create`,
        });
      }
      const signature = matchingSignature(stored.secret, header, body);
      if (!signature) {
        throw refused(
          "The signature does not match",
          'sign "<t>.<body>" with the exact bytes sent and the current trigger secret ' +
            `(a rotation replaces it at once); ${DOCS_HINT}`,
        );
      }
      const event = parseEvent(body);
      const run = await runs.prepare(name, { trigger: EXTERNAL_TRIGGER, params: { event } });
      const outcome = await store.recordTriggerDelivery({
        pipeline: name,
        event_id: eventId,
        signature,
        received_at: now.toISOString(),
        forget_before: new Date(now.getTime() - DELIVERY_RETENTION_MS).toISOString(),
        run,
      });
      if (outcome.duplicate) {
        return c.json({
          run_id: outcome.run_id,
          pipeline: name,
          status: outcome.run?.status ?? null,
          duplicate: true,
        }, 200);
      }
      await runs.dispatch();
      const current = await store.getRun(outcome.run.run_id) ?? outcome.run;
      return c.json(
        { run_id: current.run_id, pipeline: name, status: current.status, duplicate: false },
        202,
      );
    },
  );
  return app;
}
