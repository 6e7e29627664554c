/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing and verification with WebCrypto, so
 * the same code runs in the Worker and in the Node functions.
 *
 * - headers: `webhook-id`, `webhook-timestamp` (Unix seconds), `webhook-signature`;
 * - signature: space-separated `v1,<base64 HMAC-SHA256>` entries over `${id}.${timestamp}.${body}`;
 * - secret: `whsec_<base64 key>`. Several secrets may be configured at once (rotation): the first
 *   one signs, a signature made with any of them verifies;
 * - a timestamp more than `toleranceSec` (default 5 minutes) away from now is refused (replays).
 */
import { WebhookVerificationError } from "./errors.js";

const WEBHOOK_ID = "webhook-id";
const WEBHOOK_TIMESTAMP = "webhook-timestamp";
const WEBHOOK_SIGNATURE = "webhook-signature";
export const DEFAULT_TOLERANCE_SEC = 5 * 60;

const SECRET_PREFIX = "whsec_";
const encoder = new TextEncoder();

/** Decodes `whsec_<base64>` (the prefix is optional, as in the reference libraries) to key bytes. */
function secretKeyBytes(secret: string): Uint8Array<ArrayBuffer> {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = base64ToBytes(b64);
  } catch {
    throw new Error("webhook secret must be whsec_ followed by base64");
  }
  if (bytes.length < 16) throw new Error("webhook secret must hold at least 16 bytes");
  return bytes;
}

/** A fresh random secret in the `whsec_` format (24 bytes, like the reference tooling). */
export function generateSecret(): string {
  return SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(24)));
}

async function hmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    secretKeyBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    [usage],
  );
}

const signedContent = (id: string, timestamp: number | string, body: string) =>
  encoder.encode(`${id}.${timestamp}.${body}`);

/** `v1,<base64>` for one secret. */
export async function sign(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Promise<string> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await hmacKey(secret, "sign"),
    signedContent(id, timestamp, body),
  );
  return `v1,${bytesToBase64(new Uint8Array(mac))}`;
}

export interface SignOptions {
  /** Message id; a fresh `msg_<uuid>` when absent. Retries of one message must reuse its id. */
  id?: string;
  /** Unix seconds; now when absent. */
  timestamp?: number;
}

/** The three headers for `body`, signed with the first of `secrets`. */
export async function signedHeaders(
  secrets: readonly string[],
  body: string,
  options: SignOptions = {},
): Promise<Record<string, string>> {
  const secret = secrets[0];
  if (!secret) throw new Error("no webhook secret configured");
  const id = options.id ?? `msg_${crypto.randomUUID()}`;
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  return {
    [WEBHOOK_ID]: id,
    [WEBHOOK_TIMESTAMP]: String(timestamp),
    [WEBHOOK_SIGNATURE]: await sign(secret, id, timestamp, body),
  };
}

export interface VerifyOptions {
  /** Unix seconds "now" (tests). */
  now?: number;
  toleranceSec?: number;
}

export interface VerifiedWebhook {
  id: string;
  timestamp: number;
}

type HeaderSource = Headers | Readonly<Record<string, string | undefined>>;

function header(headers: HeaderSource, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  return headers[name] ?? undefined;
}

/**
 * Verifies `body` against the headers with any of `secrets`; throws `WebhookVerificationError`
 * naming what failed. The comparison is `crypto.subtle.verify`, which compares MACs in constant time.
 */
export async function verify(
  secrets: readonly string[],
  headers: HeaderSource,
  body: string,
  options: VerifyOptions = {},
): Promise<VerifiedWebhook> {
  const id = header(headers, WEBHOOK_ID);
  const ts = header(headers, WEBHOOK_TIMESTAMP);
  const signatures = header(headers, WEBHOOK_SIGNATURE);
  if (!id || !ts || !signatures)
    throw new WebhookVerificationError(
      "missing_headers",
      "Missing webhook-id, webhook-timestamp or webhook-signature",
    );
  const timestamp = checkTimestamp(ts, options);
  const presented = parseSignatures(signatures);
  const content = signedContent(id, ts, body);
  for (const secret of secrets) {
    const key = await hmacKey(secret, "verify");
    for (const mac of presented) {
      if (await crypto.subtle.verify("HMAC", key, mac, content)) return { id, timestamp };
    }
  }
  throw new WebhookVerificationError("bad_signature", "No matching webhook signature");
}

function checkTimestamp(ts: string, options: VerifyOptions): number {
  if (!/^\d{1,12}$/.test(ts))
    throw new WebhookVerificationError("bad_timestamp", "Invalid webhook-timestamp");
  const timestamp = Number(ts);
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSec ?? DEFAULT_TOLERANCE_SEC;
  if (Math.abs(now - timestamp) > tolerance) {
    throw new WebhookVerificationError(
      "bad_timestamp",
      "webhook-timestamp is outside the tolerance window",
    );
  }
  return timestamp;
}

/** `v1,<b64> v1,<b64> …` → MAC bytes; other versions (e.g. asymmetric `v1a`) are ignored. */
function parseSignatures(value: string): Uint8Array<ArrayBuffer>[] {
  const out: Uint8Array<ArrayBuffer>[] = [];
  for (const entry of value.split(" ")) {
    const [version, b64] = entry.split(",", 2);
    if (version !== "v1" || !b64) continue;
    try {
      out.push(base64ToBytes(b64));
    } catch {
      // A malformed entry cannot match; the others may.
    }
  }
  return out;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function base64ToBytes(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
