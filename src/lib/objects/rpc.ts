/**
 * The object store over signed HTTP: `POST <base>/objects` with a JSON operation. The gateway serves
 * it on its R2 bucket so Node functions can reach the same images and records without R2/S3
 * credentials (`OBJECT_STORE=gateway`); `RemoteObjectStore` is the client.
 */
import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../errors.js";
import { SignedClient, SignedCallError } from "../webhooks/client.js";
import { signedJson, verifySignature, type SignedEnv } from "../webhooks/middleware.js";
import type { ReplayLedger } from "../webhooks/replay.js";
import { base64ToBytes, bytesToBase64 } from "../webhooks/standard-webhooks.js";
import { CATALOG_PREFIX, IMAGE_PREFIX, type ObjectStore, type StoredObject } from "./types.js";

/** Only our two prefixes, no path tricks: the endpoint is not a general bucket proxy. */
const Key = z
  .string()
  .max(512)
  .refine(
    (k) => (k.startsWith(IMAGE_PREFIX) || k.startsWith(CATALOG_PREFIX)) && !k.includes(".."),
    "key outside images/ and catalog/",
  );

const Op = z.discriminatedUnion("op", [
  z.object({ op: z.literal("get"), key: Key }),
  z.object({ op: z.literal("put"), key: Key, contentType: z.string().max(200), data: z.string() }),
  z.object({ op: z.literal("delete"), key: Key }),
  z.object({
    op: z.literal("list"),
    prefix: Key,
    limit: z.number().int().min(1).max(1000),
    startAfter: z.string().max(512).optional(),
  }),
]);

const OBJECT_RPC_PATH = "/objects";
/** Where the gateway mounts `objectRpcApp` (outside /v1: no API key, a signature instead). */
export const INTERNAL_PREFIX = "/internal";

/** Hono app serving the object operations on `store`; mount it under an internal prefix. */
export function objectRpcApp(
  store: ObjectStore,
  secrets: readonly string[],
  maxBytes: number,
  replays?: ReplayLedger,
): Hono<SignedEnv> {
  const app = new Hono<SignedEnv>();
  // base64 inflates by 4/3; the limit is on the JSON envelope.
  app.post(
    OBJECT_RPC_PATH,
    verifySignature(secrets, {
      maxBytes: Math.ceil(maxBytes * 1.4) + 1024,
      ...(replays ? { replays } : {}),
    }),
    async (c) => {
      const parsed = Op.safeParse(signedJson(c.get("webhook")));
      if (!parsed.success)
        throw ApiError.invalid(parsed.error.issues.map((i) => i.message).join("; "));
      const op = parsed.data;
      if (op.op === "get") {
        const obj = await store.get(op.key);
        if (!obj) throw ApiError.notFound(`Object ${op.key}`);
        return c.body(obj.bytes as Uint8Array<ArrayBuffer>, 200, {
          "content-type": obj.contentType,
        });
      }
      if (op.op === "put") {
        await store.put(op.key, base64ToBytes(op.data), op.contentType);
        return c.body(null, 204);
      }
      if (op.op === "delete") {
        await store.delete(op.key);
        return c.body(null, 204);
      }
      return c.json({ keys: await store.list(op.prefix, op.limit, op.startAfter) }, 200);
    },
  );
  return app;
}

/** `ObjectStore` client of `objectRpcApp`. */
export class RemoteObjectStore implements ObjectStore {
  constructor(private readonly client: SignedClient) {}

  async get(key: string): Promise<StoredObject | null> {
    const res = await this.client.post(OBJECT_RPC_PATH, { op: "get", key });
    if (res.status === 404) return null;
    if (!res.ok)
      throw new SignedCallError(res.status, `object get answered ${res.status}`, await res.text());
    return {
      bytes: new Uint8Array(await res.arrayBuffer()),
      contentType: res.headers.get("content-type") ?? "application/octet-stream",
    };
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.expectOk(
      await this.client.post(OBJECT_RPC_PATH, {
        op: "put",
        key,
        contentType,
        data: bytesToBase64(bytes),
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.expectOk(await this.client.post(OBJECT_RPC_PATH, { op: "delete", key }));
  }

  async list(prefix: string, limit: number, startAfter?: string): Promise<string[]> {
    const body = { op: "list", prefix, limit, ...(startAfter !== undefined ? { startAfter } : {}) };
    return (await this.client.postJson<{ keys: string[] }>(OBJECT_RPC_PATH, body)).keys;
  }

  private async expectOk(res: Response): Promise<void> {
    if (!res.ok)
      throw new SignedCallError(
        res.status,
        `object store answered ${res.status}`,
        await res.text(),
      );
    await res.body?.cancel();
  }
}
