/** Signed webhooks on run events: the only way into src/webhooks/ from outside. */
export {
  EVENTS,
  type WebhookConfig,
  webhookDeliverySchema,
  webhookSchema,
  webhooksSchema,
} from "./config.ts";
export type { WebhookDelivery, WebhookEvent } from "./config.ts";
export { blockedReason, vetUrl } from "./address.ts";
export { signatureHeader, verifyTauSignature } from "./signature.ts";
export { listAll, type Webhook } from "./registry.ts";
export { WebhookService, type WebhookServiceOptions } from "./service.ts";
export { webhookService } from "./daemon_service.ts";
