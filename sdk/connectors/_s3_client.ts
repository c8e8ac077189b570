/** The AWS SDK S3 client, configured so it runs inside the pipeline sandbox; error wrapping. */
import type { S3Client } from "@aws-sdk/client-s3";
import { ConnectorError } from "./types.ts";

/**
 * Environment variables `@aws-sdk/client-s3` reads even when every option is passed explicitly:
 * the first two when the SDK module is evaluated (`@aws/lambda-invoke-store`), the third when a
 * client is constructed. Deno throws `NotCapable` on any unlisted `process.env` read, so a
 * sandbox must allow these names; the run's environment is cleared, so they read as unset.
 */
export const S3_ENV_PROBES: readonly string[] = [
  "AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA",
  "AWS_LAMBDA_BENCHMARK_MODE",
  "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED",
];

/** The lazily imported SDK module. */
export type S3Sdk = typeof import("@aws-sdk/client-s3");

export interface ClientSettings {
  region: string;
  endpoint: string | undefined;
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string | undefined;
}

/** A connected client with the SDK module it came from. */
export interface Connection {
  sdk: S3Sdk;
  client: S3Client;
}

/**
 * Builds the client. Every setting the SDK would otherwise resolve from `AWS_*` env vars or
 * `~/.aws/config` is given here: each one left out makes it read `AWS_PROFILE`, `HOME`,
 * `AWS_CONFIG_FILE`… on first use, which the sandbox refuses.
 */
export async function connect(settings: ClientSettings): Promise<Connection> {
  const sdk = await import("@aws-sdk/client-s3");
  // Stores other than AWS often reject the default CRC32 checksum headers, so checksums are
  // only sent/validated when an operation requires them; on AWS itself keep the SDK default.
  const checksums = settings.endpoint === undefined ? "WHEN_SUPPORTED" : "WHEN_REQUIRED";
  const client = new sdk.S3Client({
    region: settings.region,
    ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    // Else, without an endpoint, AWS_ENDPOINT_URL_S3 / `endpoint_url` in ~/.aws/config are read.
    ignoreConfiguredEndpointUrls: true,
    credentials: {
      accessKeyId: settings.accessKeyId,
      secretAccessKey: settings.secretAccessKey,
      ...(settings.sessionToken === undefined ? {} : { sessionToken: settings.sessionToken }),
    },
    defaultsMode: "standard",
    // A dead endpoint fails in seconds rather than at the run's timeout.
    requestHandler: { connectionTimeout: 10_000 },
    maxAttempts: 3,
    retryMode: "standard",
    authSchemePreference: [],
    disableS3ExpressSessionAuth: true,
    requestChecksumCalculation: checksums,
    responseChecksumValidation: checksums,
    sigv4aSigningRegionSet: [],
    useArnRegion: false,
    useDualstackEndpoint: false,
    useFipsEndpoint: false,
    userAgentAppId: () => Promise.resolve(undefined),
    // The default provider calls os.release(), which needs --allow-sys.
    defaultUserAgentProvider: () => Promise.resolve([["tau"]]),
    // Not in the client's config type, but read by the SigV4 signer (else an env/config lookup).
    ...{ disableClockSkewCorrection: false },
  });
  // Only useful inside AWS Lambda; it reads AWS_LAMBDA_FUNCTION_NAME/_X_AMZN_TRACE_ID per request.
  client.middlewareStack.remove("recursionDetectionMiddleware");
  client.middlewareStack.add(reportDeniedLookups as never, {
    step: "finalizeRequest",
    priority: "low",
    name: "tauDeniedLookup",
  });
  return { sdk, client };
}

interface Sent {
  request: { hostname?: string; port?: number; protocol?: string };
}

/**
 * Node's http in Deno reports a host the sandbox does not allow as `getaddrinfo EPERM <host>`
 * (an IP address gets Deno's own `NotCapable`). Rethrow it as the `NotCapable` Deno would give,
 * so the run reports a permission error naming host:port.
 */
function reportDeniedLookups(next: (args: Sent) => Promise<unknown>) {
  return async (args: Sent) => {
    try {
      return await next(args);
    } catch (err) {
      const e = err as { code?: string; syscall?: string; hostname?: string } | null;
      if (e?.code !== "EPERM" || e.syscall !== "getaddrinfo") throw err;
      const { hostname = e.hostname, port, protocol } = args.request;
      const target = `${hostname}:${port ?? (protocol === "http:" ? 80 : 443)}`;
      throw new Deno.errors.NotCapable(
        `Requires net access to "${target}", run again with the --allow-net flag`,
        { cause: err },
      );
    }
  };
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

/** HTTP status of an SDK error, if it came from a response. */
export function statusOf(err: unknown): number | undefined {
  return (err as SdkErrorShape | null)?.$metadata?.httpStatusCode;
}

/** True when the error says the object or bucket does not exist. */
export function isNotFound(err: unknown): boolean {
  const name = (err as SdkErrorShape | null)?.name;
  return name === "NoSuchKey" || name === "NotFound" || statusOf(err) === 404;
}

/**
 * Wraps an SDK error with what was attempted (`GetObject s3://bucket/key`) and a hint.
 * Deno permission errors pass through untouched so the runner reports them as such.
 */
export function s3Error(action: string, target: string, err: unknown): Error {
  if (err instanceof Error && (err.name === "NotCapable" || err.name === "PermissionDenied")) {
    return err;
  }
  const e = (err ?? {}) as SdkErrorShape;
  const status = statusOf(err);
  const name = e.name ?? "Error";
  // HEAD responses have no body, so the SDK's message is just "UnknownError".
  const message = e.message && e.message !== name && e.message !== "UnknownError"
    ? `: ${e.message}`
    : "";
  const http = status === undefined ? "" : ` (HTTP ${status})`;
  return new ConnectorError(
    `s3 ${action} ${target} failed: ${name}${message}${http}${hintFor(name, status, e.code)}`,
    { cause: err },
  );
}

function hintFor(name: string, status: number | undefined, code: string | undefined): string {
  if (name === "NoSuchKey" || (status === 404 && name === "NotFound")) {
    return `; list what exists with execute("list", [prefix])`;
  }
  if (name === "NoSuchBucket") return "; check the bucket name, region and endpoint";
  if (name === "InvalidAccessKeyId" || name === "SignatureDoesNotMatch" || status === 403) {
    return "; check accessKeyId/secretAccessKey (and sessionToken) and the bucket policy";
  }
  if (status === 301 || name === "PermanentRedirect") {
    return "; the bucket is in another region: set region";
  }
  if (status === undefined && /^E[A-Z]+$/.test(code ?? "")) return "; is the endpoint reachable?";
  return "";
}
