/**
 * `ObjectStore` on the S3 API (AWS S3, or R2 at `https://<account>.r2.cloudflarestorage.com` with
 * region `auto`): lets the Node functions read and write the bucket directly (`OBJECT_STORE=s3`)
 * instead of through the gateway. Keys are the layout of `src/lib/objects/types.ts`, unchanged.
 *
 * Node-only although S3 is plain HTTP: `@aws-sdk/client-s3` loads its Node runtime (node:http,
 * node:https, node:fs, node:os, … for its HTTP handler and credential chain) on import, so it
 * cannot live in src/lib, and the Worker never needs it (it has the R2 binding).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import type { ObjectStore, StoredObject } from "../../lib/objects/index.js";

export interface S3ObjectStoreOptions {
  bucket: string;
  /** `auto` for R2; an AWS region for S3. */
  region: string;
  /** Omit for AWS S3 (derived from the region); required for R2 and other S3-compatible stores. */
  endpoint?: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, local fakes). */
  forcePathStyle: boolean;
}

/** S3 answers at most 1000 keys per ListObjectsV2 call. */
const MAX_KEYS_PER_PAGE = 1000;

export class S3ObjectStore implements ObjectStore {
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      // Explicit keys: the SDK's default chain would read process.env and ~/.aws below the entry.
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // The SDK's default CRC32 headers (since 3.729) are refused by R2 and some S3-compatible
      // stores; SigV4 already signs the payload hash, so checksums only where an operation needs them.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  /** The object's bytes and content type; null when the key does not exist. */
  async get(key: string): Promise<StoredObject | null> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array();
      return { bytes, contentType: res.ContentType ?? "application/octet-stream" };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async put(key: string, bytes: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
      }),
    );
  }

  /** Deleting a missing key succeeds (S3 answers 204 either way), as in the other stores. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Keys under `prefix` in key order (S3 lists in UTF-8 byte order), following pages up to `limit`. */
  async list(prefix: string, limit: number, startAfter?: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: Math.min(limit - keys.length, MAX_KEYS_PER_PAGE),
          ContinuationToken: token,
          // S3 ignores StartAfter once a continuation token is given; sent on the first page only.
          ...(token === undefined && startAfter !== undefined ? { StartAfter: startAfter } : {}),
        }),
      );
      for (const obj of page.Contents ?? []) if (obj.Key !== undefined) keys.push(obj.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token && keys.length < limit);
    return keys.slice(0, limit);
  }

  /** Closes the client's keep-alive sockets. */
  close(): void {
    this.client.destroy();
  }
}

/**
 * A missing key: `NoSuchKey` from S3 and R2. Not any 404: `NoSuchBucket` is a misconfiguration and
 * must not read as "no such image". (AWS S3 answers 403 instead when the credentials lack
 * s3:ListBucket — docs/deploy.md asks for it, so a 403 stays an error here.)
 */
function isNotFound(err: unknown): boolean {
  return (
    err instanceof NoSuchKey || (err instanceof S3ServiceException && err.name === "NoSuchKey")
  );
}
