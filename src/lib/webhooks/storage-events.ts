/**
 * Object-storage event notifications → one normalised shape. Two sources:
 * - R2 event notifications (one message per event, delivered to a Queue; the gateway forwards each
 *   message body, signed): `{account, bucket, action, object: {key, size?, eTag?}, eventTime}`;
 * - S3 event notifications: `{Records: [{eventName, eventTime, s3: {object: {key, sequencer}}}]}`,
 *   whose keys are URL-encoded (form encoding: `+` is a space).
 * `order` sorts events of one key, each source by its own rule (`compareEvents`): S3's `sequencer`,
 * R2's `eventTime` (R2 has no sequencer).
 */
import { z } from "zod";

export interface StorageEvent {
  source: "r2" | "s3";
  kind: "created" | "deleted";
  bucket: string;
  key: string;
  /** S3: the sequencer; R2: the event time. Compared with `compareEvents`. */
  order: string;
  /** When the storage says the event happened (ISO 8601). */
  eventTime: string;
}

const R2Event = z
  .object({
    account: z.string().optional(),
    bucket: z.string(),
    action: z.string(),
    object: z.object({ key: z.string() }).loose(),
    eventTime: z.string(),
  })
  .loose();

const S3Record = z
  .object({
    eventSource: z.literal("aws:s3").optional(),
    eventName: z.string(),
    eventTime: z.string(),
    s3: z
      .object({
        bucket: z.object({ name: z.string() }).loose(),
        object: z
          .object({ key: z.string(), sequencer: z.string().regex(/^[0-9A-Fa-f]{1,64}$/) })
          .loose(),
      })
      .loose(),
  })
  .loose();

const S3Notification = z.object({ Records: z.array(S3Record).max(1000) }).loose();

const R2_CREATED = new Set(["PutObject", "CopyObject", "CompleteMultipartUpload"]);
const R2_DELETED = new Set(["DeleteObject", "LifecycleDeletion"]);

/** Parses one delivery; unknown event types (e.g. S3 `s3:TestEvent`, restores) yield no events. */
export function parseStorageEvents(body: unknown): StorageEvent[] | null {
  const s3 = S3Notification.safeParse(body);
  if (s3.success) return s3.data.Records.flatMap((r) => fromS3(r));
  const r2 = R2Event.safeParse(body);
  if (r2.success) return fromR2(r2.data);
  if (isS3TestEvent(body)) return [];
  return null;
}

function fromS3(r: z.infer<typeof S3Record>): StorageEvent[] {
  const kind = r.eventName.startsWith("ObjectCreated:")
    ? "created"
    : r.eventName.startsWith("ObjectRemoved:")
      ? "deleted"
      : null;
  if (!kind) return [];
  return [
    {
      source: "s3",
      kind,
      bucket: r.s3.bucket.name,
      key: decodeS3Key(r.s3.object.key),
      order: r.s3.object.sequencer.toUpperCase(),
      eventTime: r.eventTime,
    },
  ];
}

function fromR2(e: z.infer<typeof R2Event>): StorageEvent[] {
  const kind = R2_CREATED.has(e.action) ? "created" : R2_DELETED.has(e.action) ? "deleted" : null;
  if (!kind) return [];
  const { bucket, eventTime } = e;
  return [{ source: "r2", kind, bucket, key: e.object.key, order: eventTime, eventTime }];
}

function isS3TestEvent(body: unknown): boolean {
  return (
    typeof body === "object" &&
    body !== null &&
    (body as { Event?: unknown }).Event === "s3:TestEvent"
  );
}

/** S3 keys in notifications are form-URL-encoded: `+` is a space, `%2B` a plus. */
function decodeS3Key(key: string): string {
  return decodeURIComponent(key.replace(/\+/g, " "));
}

/**
 * Orders two events of one key by their source's own rule: S3 sequencers as hex strings of possibly
 * different length, compared after right-padding the shorter with "0" (as AWS documents); R2 event
 * times as instants (ISO strings of different precision do not sort as text: "…:00Z" > "…:00.5Z").
 * <0, 0, >0 like a comparator; null when they cannot be compared (different sources, a bad time).
 */
export function compareEvents(
  a: Pick<StorageEvent, "source" | "order">,
  b: Pick<StorageEvent, "source" | "order">,
): number | null {
  if (a.source !== b.source) return null;
  if (a.source === "r2") {
    const x = Date.parse(a.order);
    const y = Date.parse(b.order);
    return Number.isNaN(x) || Number.isNaN(y) ? null : Math.sign(x - y);
  }
  const n = Math.max(a.order.length, b.order.length);
  const x = a.order.padEnd(n, "0");
  const y = b.order.padEnd(n, "0");
  return x < y ? -1 : x > y ? 1 : 0;
}
