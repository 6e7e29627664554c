/**
 * An in-process S3 endpoint on loopback (path-style: `/<bucket>/<key>`) for the S3 object store:
 * PutObject, GetObject, HeadObject, DeleteObject and ListObjectsV2 on one bucket, in memory.
 *
 * Every request must carry a SigV4 `Authorization` header for the configured access key, region and
 * service `s3` that signs `host`, `x-amz-date` and `x-amz-content-sha256`, with a payload hash that
 * matches the body and a signature that verifies with the secret key (recomputed here, as S3 does);
 * anything else is answered 403 `SignatureDoesNotMatch` and counted in `rejected`.
 */
import { createHash, createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeS3Options {
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** Keys per ListObjectsV2 page at most (small, so tests exercise continuation tokens). */
  pageSize?: number;
}

export interface FakeS3Request {
  method: string;
  key: string;
}

export class FakeS3 {
  readonly objects = new Map<string, { bytes: Uint8Array; contentType: string }>();
  /** Accepted requests, in order. */
  readonly requests: FakeS3Request[] = [];
  /** Requests refused for a missing or wrong signature. */
  rejected = 0;
  private readonly server: Server;

  private constructor(private readonly options: FakeS3Options) {
    this.server = createServer(
      (req, res) =>
        void this.handle(req, res).catch((err: unknown) =>
          reply(res, 500, "InternalError", String(err)),
        ),
    );
  }

  static async start(options: FakeS3Options): Promise<FakeS3> {
    const fake = new FakeS3(options);
    await new Promise<void>((resolve) => fake.server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  /** `http://127.0.0.1:<port>`, the S3 endpoint. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const [bucket = "", ...rest] = url.pathname.slice(1).split("/");
    const key = rest.map(decodeURIComponent).join("/");
    const body = await readBody(req);
    const signatureProblem = this.checkSignature(req, body);
    if (signatureProblem) {
      this.rejected++;
      return reply(res, 403, "SignatureDoesNotMatch", signatureProblem);
    }
    if (decodeURIComponent(bucket) !== this.options.bucket)
      return reply(res, 404, "NoSuchBucket", bucket);
    this.requests.push({ method: req.method ?? "", key });
    if (!key && req.method === "GET" && url.searchParams.get("list-type") === "2")
      return this.list(url.searchParams, res);
    if (req.method === "PUT") return this.put(key, body, req, res);
    if (req.method === "GET" || req.method === "HEAD")
      return this.get(key, req.method === "HEAD", res);
    if (req.method === "DELETE") {
      this.objects.delete(key);
      return void res.writeHead(204).end();
    }
    reply(res, 501, "NotImplemented", `${req.method} ${url.pathname}`);
  }

  /** Why the request is not SigV4-signed for our key, region and body; null when it is. */
  private checkSignature(req: IncomingMessage, body: Uint8Array): string | null {
    const { accessKeyId, region } = this.options;
    const auth = req.headers.authorization ?? "";
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(
        auth,
      );
    if (!match) return `no SigV4 Authorization header: ${JSON.stringify(auth)}`;
    const [, credKey, date = "", credRegion, signed = "", signature] = match;
    if (credKey !== accessKeyId) return `signed for access key ${credKey}`;
    if (credRegion !== region) return `signed for region ${credRegion}`;
    const signedHeaders = signed.split(";");
    for (const h of ["host", "x-amz-date", "x-amz-content-sha256"])
      if (!signedHeaders.includes(h)) return `${h} not signed`;
    const payloadHash = req.headers["x-amz-content-sha256"];
    if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== sha256Hex(body))
      return "x-amz-content-sha256 does not match the body";
    const expected = sigV4Signature(
      req,
      signedHeaders,
      this.options.secretAccessKey,
      `${date}/${region}/s3/aws4_request`,
    );
    return signature === expected ? null : "signature does not verify with the secret key";
  }

  private put(key: string, body: Uint8Array, req: IncomingMessage, res: ServerResponse): void {
    this.objects.set(key, {
      bytes: body,
      contentType: req.headers["content-type"] ?? "binary/octet-stream",
    });
    res.writeHead(200, { etag: `"${createHash("md5").update(body).digest("hex")}"` }).end();
  }

  private get(key: string, headOnly: boolean, res: ServerResponse): void {
    const obj = this.objects.get(key);
    if (!obj)
      return headOnly
        ? void res.writeHead(404).end()
        : reply(res, 404, "NoSuchKey", "The specified key does not exist.");
    res.writeHead(200, {
      "content-type": obj.contentType,
      "content-length": obj.bytes.length,
      "last-modified": new Date(0).toUTCString(),
    });
    res.end(headOnly ? undefined : obj.bytes);
  }

  /** ListObjectsV2; the continuation token is the last key of the previous page. */
  private list(params: URLSearchParams, res: ServerResponse): void {
    const prefix = params.get("prefix") ?? "";
    const after = params.get("continuation-token") ?? params.get("start-after") ?? "";
    const max = Math.min(Number(params.get("max-keys") ?? 1000), this.options.pageSize ?? 1000);
    const all = [...this.objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const page = all.slice(0, max);
    const truncated = all.length > page.length;
    const xml = [
      `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
      `<Name>${this.options.bucket}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>`,
      `<IsTruncated>${truncated}</IsTruncated>`,
      truncated
        ? `<NextContinuationToken>${escapeXml(page.at(-1) ?? "")}</NextContinuationToken>`
        : "",
      ...page.map(
        (k) =>
          `<Contents><Key>${escapeXml(k)}</Key><Size>${this.objects.get(k)?.bytes.length ?? 0}</Size></Contents>`,
      ),
      `</ListBucketResult>`,
    ].join("");
    res.writeHead(200, { "content-type": "application/xml" }).end(xml);
  }
}

/**
 * The SigV4 signature S3 expects for `req` (AWS "Signature Version 4 signing process"; for S3 the
 * path is used as sent, not encoded twice).
 */
function sigV4Signature(
  req: IncomingMessage,
  signedHeaders: string[],
  secret: string,
  scope: string,
): string {
  const [path = "/", query = ""] = (req.url ?? "/").split("?", 2);
  const canonicalQuery = query
    .split("&")
    .filter(Boolean)
    .map((pair) =>
      pair.split("=", 2).map((part) => rfc3986(decodeURIComponent(part.replace(/\+/g, " ")))),
    )
    .map(([k = "", v = ""]) => `${k}=${v}`)
    .sort()
    .join("&");
  const header = (name: string) =>
    String(req.headers[name] ?? "")
      .trim()
      .replace(/\s+/g, " ");
  const canonicalRequest = [
    req.method,
    path,
    canonicalQuery,
    ...signedHeaders.map((h) => `${h}:${header(h)}`),
    "",
    signedHeaders.join(";"),
    header("x-amz-content-sha256"),
  ].join("\n");
  const stringToSign = [
    "AWS4-HMAC-SHA256",
    header("x-amz-date"),
    scope,
    sha256Hex(new TextEncoder().encode(canonicalRequest)),
  ].join("\n");
  const key = scope.split("/").reduce<Buffer | string>((k, part) => hmac(k, part), `AWS4${secret}`);
  return createHmac("sha256", key).update(stringToSign).digest("hex");
}

const hmac = (key: Buffer | string, data: string): Buffer =>
  createHmac("sha256", key).update(data).digest();
/** encodeURIComponent plus the characters RFC 3986 reserves that it leaves alone. */
const rfc3986 = (s: string): string =>
  encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );

/** An S3 error document. */
function reply(res: ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "application/xml" });
  res.end(
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>`,
  );
}

async function readBody(req: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

const sha256Hex = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");
const escapeXml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
