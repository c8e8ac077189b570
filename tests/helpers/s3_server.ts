/**
 * A local S3-compatible server for tests: npm `s3rver` (filesystem-backed, checks SigV4
 * signatures) run in a child `deno run -A` process on a free loopback port.
 *
 * s3rver 3.7.1 checks the access key id but not SigV4 signatures, so a middleware here verifies
 * them (with its own SigV4 code, not the SDK's): a wrong secret gets `SignatureDoesNotMatch`.
 * `@20minutes/s3rver` 5.0.0 verifies signatures itself but canonicalizes `/bucket/` as
 * `/bucket`, so every bucket-level call of the current AWS SDK (ListObjectsV2, HeadBucket) fails.
 *
 * Run directly, this file is the child: it prints `{"port":N}` once listening.
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";

/** One HTTP request the server received, as recorded before routing. */
export interface RecordedRequest {
  method: string;
  /** The Host header (`127.0.0.1:PORT`; a virtual-hosted request would be `bucket.…`). */
  host: string;
  /** Path and query string. */
  url: string;
}

/** A running server and the only credentials it accepts. */
export interface S3Server extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  host: string;
  port: number;
  /** The buckets created at start. */
  buckets: string[];
  accessKeyId: string;
  secretAccessKey: string;
  /** Requests received so far (excluding this call's own); `clear` empties the record. */
  requests(options?: { clear?: boolean }): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

const CONTROL_PATH = "/__tau_test_requests__";
/** s3rver's built-in account. */
const ACCESS_KEY_ID = "S3RVER";
const SECRET = "S3RVER";

/** Starts s3rver with the given buckets (default `["tau-test"]`) in a fresh temp directory. */
export async function startS3Server(
  options: { buckets?: string[] } = {},
): Promise<S3Server> {
  const buckets = options.buckets ?? ["tau-test"];
  const directory = await Deno.makeTempDir({ prefix: "tau-s3rver-" });
  const config = new URL("../../deno.json", import.meta.url).pathname;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", config, import.meta.url, directory, ...buckets],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  let port: number | null = null;
  const deadline = setTimeout(() => child.kill("SIGKILL"), 60_000);
  try {
    while (port === null) {
      const { value, done } = await lines.read();
      if (done) break;
      buffered += value;
      const match = buffered.match(/\{"port":(\d+)\}/);
      if (match) port = Number(match[1]);
    }
  } finally {
    clearTimeout(deadline);
  }
  if (port === null) {
    const status = await child.status;
    await Deno.remove(directory, { recursive: true }).catch(() => {});
    throw new Error(`s3rver did not start (exit ${status.code}): ${(await stderr).slice(-2000)}`);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await lines.read()).done) { /* discard */ }
  })();
  const host = `127.0.0.1:${port}`;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    try {
      child.kill("SIGTERM");
    } catch { /* already exited */ }
    await child.status;
    await drained;
    await stderr;
    await Deno.remove(directory, { recursive: true }).catch(() => {});
  };
  return {
    endpoint: `http://${host}`,
    host,
    port,
    buckets,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET,
    async requests({ clear = false } = {}) {
      const res = await fetch(`http://${host}${CONTROL_PATH}${clear ? "?clear=1" : ""}`);
      if (!res.ok) throw new Error(`request log: HTTP ${res.status}`);
      return await res.json();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

interface KoaContext {
  method: string;
  path: string;
  url: string;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  type: string;
  status: number;
}

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
const hmac = (key: Buffer | string, data: string) =>
  createHmac("sha256", key).update(data).digest();
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );

/**
 * Recomputes a header-signed SigV4 request's signature with `secret`; true when it matches.
 * Requests without an AWS4 Authorization header are left to s3rver.
 */
function signatureMatches(ctx: KoaContext, secret: string): boolean {
  const auth = String(ctx.headers.authorization ?? "");
  const m = auth.match(
    /^AWS4-HMAC-SHA256 Credential=([^,]+), ?SignedHeaders=([^,]+), ?Signature=(\w+)$/,
  );
  if (!m) return true;
  const [, credential = "", signedHeaders = "", signature = ""] = m;
  const [, date = "", region = "", service = ""] = credential.split("/");
  const [path = "/", query = ""] = ctx.url.split(/\?(.*)/s);
  const canonicalQuery = query === "" ? "" : query.split("&").map((pair) => {
    const [k = "", v = ""] = pair.split(/=(.*)/s);
    return [rfc3986(decodeURIComponent(k)), rfc3986(decodeURIComponent(v.replace(/\+/g, " ")))];
  }).sort(([a = ""], [b = ""]) => (a < b ? -1 : a > b ? 1 : 0)).map((p) => p.join("=")).join("&");
  const names = signedHeaders.split(";");
  const headerLines = names.map((n) => {
    const value = ctx.headers[n];
    return `${n}:${
      (Array.isArray(value) ? value.join(",") : value ?? "").trim().replace(/\s+/g, " ")
    }\n`;
  }).join("");
  const canonical = [
    ctx.method,
    path,
    canonicalQuery,
    headerLines,
    signedHeaders,
    String(ctx.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD"),
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    String(ctx.headers["x-amz-date"] ?? ""),
    `${date}/${region}/${service}/aws4_request`,
    sha256(canonical),
  ].join("\n");
  let key = hmac("AWS4" + secret, date);
  for (const part of [region, service, "aws4_request"]) key = hmac(key, part);
  return hmac(key, stringToSign).toString("hex") === signature;
}

async function serve(directory: string, buckets: string[]): Promise<void> {
  const mod = await import("s3rver");
  const S3rver = mod.default;
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const log: RecordedRequest[] = [];
  // First in the chain, so every request is seen exactly as it arrived.
  (server as unknown as { middleware: unknown[] }).middleware.unshift(
    (ctx: KoaContext, next: () => Promise<void>) => {
      if (ctx.path === CONTROL_PATH) {
        ctx.type = "application/json";
        ctx.body = JSON.stringify(log);
        if (ctx.query.clear) log.length = 0;
        return Promise.resolve();
      }
      log.push({ method: ctx.method, host: String(ctx.headers.host ?? ""), url: ctx.url });
      if (!signatureMatches(ctx, SECRET)) {
        ctx.status = 403;
        ctx.type = "application/xml";
        ctx.body = '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch' +
          "</Code><Message>The request signature we calculated does not match the signature " +
          "you provided. Check your key and signing method.</Message></Error>";
        return Promise.resolve();
      }
      return next();
    },
  );
  const address = await server.run();
  console.log(JSON.stringify({ port: address.port }));
  Deno.addSignalListener("SIGTERM", () => {
    server.close().finally(() => Deno.exit(0));
  });
}

if (import.meta.main) {
  const [directory, ...buckets] = Deno.args;
  if (!directory) throw new Error("usage: s3_server.ts DIRECTORY BUCKET...");
  await serve(directory, buckets);
}
