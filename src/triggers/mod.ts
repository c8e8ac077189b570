/**
 * External triggers: `POST /api/v1/pipelines/NAME/trigger`, signed with a per-pipeline secret
 * instead of an API key, starts a run whose `ctx.params.event` is the body (docs/triggers.md).
 */
export { EXTERNAL_TRIGGER, signedTriggerRoutes, TRIGGER_PATH } from "./trigger_route.ts";
export { triggerSecretRoutes } from "./secret_routes.ts";
export { EVENT_ID_HEADER, generateTriggerSecret, MAX_TRIGGER_BODY_BYTES } from "./delivery.ts";
export { SIGNATURE_HEADER, signatureHeader, TOLERANCE_S } from "./signature.ts";
