import type { AcceptedImage } from "./intake/index.js";

export type { AcceptedImage };
import type { BoxXywh, CocoRle } from "./masks/types.js";
import type { Metadata, VectorStore } from "./store/types.js";

export type ImageStatus = "queued" | "processing" | "indexed" | "failed";

export interface ImageRecord {
  tenant: string;
  id: string;
  status: ImageStatus;
  contentType: string;
  bytes: number;
  sha256: string;
  width?: number;
  height?: number;
  regionCount?: number;
  pack?: string;
  error?: string;
  /** Machine-readable reason of `error` (an ApiError code, e.g. `invalid_image`). */
  errorCode?: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** Display name (the file name by default on multipart and CLI uploads). */
  name?: string;
  /** User metadata (src/lib/metadata); copied into every point of the image. */
  metadata?: Metadata;
}

export interface ListOptions {
  status?: ImageStatus;
  limit?: number;
  /** Only records whose id sorts after this one (the cursor of `GET /v1/images`). */
  after?: string;
  /** Only records this accepts (in-process filters such as a metadata filter). */
  where?: (record: ImageRecord) => boolean;
}

/** Image records (status, size); the source of truth for `GET /v1/images/{id}`. */
export interface ImageCatalog {
  get(tenant: string, id: string): Promise<ImageRecord | null>;
  put(record: ImageRecord): Promise<void>;
  delete(tenant: string, id: string): Promise<void>;
  /** Records in id order. */
  list(tenant: string, options?: ListOptions): Promise<ImageRecord[]>;
}

export interface BlobStore {
  put(tenant: string, id: string, bytes: Uint8Array, contentType: string): Promise<void>;
  get(tenant: string, id: string): Promise<{ bytes: Uint8Array; contentType: string } | null>;
  delete(tenant: string, id: string): Promise<void>;
}

export interface IngestJob {
  tenant: string;
  imageId: string;
}

export interface JobQueue {
  enqueue(job: IngestJob): Promise<void>;
  /**
   * Resolves once the image's pending job has settled (indexed, or failed for good) or `timeoutMs`
   * passed, whichever comes first. Optional: queues that cannot tell (remote queues) omit it and
   * callers poll the catalog instead.
   */
  waitFor?(job: IngestJob, timeoutMs: number): Promise<void>;
}

/** One region found in an image by the segmenter, with its Alpha-CLIP vector. */
export interface ExtractedRegion {
  mask: CocoRle;
  bbox: BoxXywh;
  area: number;
  predictedIou: number;
  stability: number;
  vector: Float32Array;
}

/** What the model pipeline makes of one image (Node: sharp + onnxruntime). */
export interface ExtractedImage {
  width: number;
  height: number;
  /** Whole-image vector (alpha = 1 everywhere). */
  imageVector: Float32Array;
  regions: ExtractedRegion[];
  /** Milliseconds per stage, for logs and benchmarks. */
  timings: Record<string, number>;
}

export interface RegionExtractor {
  /** `pack` as `name@version`. */
  readonly pack: string;
  extract(bytes: Uint8Array): Promise<ExtractedImage>;
}

export interface TextEmbedder {
  readonly pack: string;
  /** L2-normalised text vector. */
  embedText(text: string): Promise<Float32Array>;
}

/**
 * Where, in an example image's own pixels (after EXIF orientation, as its width and height are
 * reported), the region to search for lies: a point on it `[x, y]`, or a box around it `[x, y, w, h]`.
 */
export type RegionPrompt = { point: [number, number] } | { box: BoxXywh };

/** One region segmented from an example image by a prompt, embedded exactly like an indexed region. */
export interface EmbeddedExample {
  width: number;
  height: number;
  mask: CocoRle;
  bbox: BoxXywh;
  area: number;
  predictedIou: number;
  /** Unit vector in the pack's stored layout (both views), comparable with stored region vectors. */
  vector: Float32Array;
  /** Milliseconds per stage: decode, encoder, decoder, upsample, embed, … */
  timings: Record<string, number>;
}

/**
 * Query by example: the pack's interactive (prompted) SAM decoder turns a point or box on an image
 * into one region, then the region is embedded as ingestion embeds one. Node: the model worker
 * (src/node/pipeline/example-embedder.ts). Throws image input errors (4xx) for undecodable bytes, an
 * `invalid_request` ApiError for a prompt outside the image, `no_region` when nothing is segmented.
 */
export interface ExampleEmbedder {
  readonly pack: string;
  embedExample(bytes: Uint8Array, prompt: RegionPrompt): Promise<EmbeddedExample>;
}

/** Raster helpers the API needs for PNG responses (Node: sharp). */
export interface Renderer {
  maskPng(mask: CocoRle): Promise<Uint8Array>;
  previewPng(image: Uint8Array, mask: CocoRle): Promise<Uint8Array>;
}

/**
 * A check of accepted bytes before anything is stored: the local server's full decode (Node: sharp),
 * the gateway's structural integrity check (src/lib/integrity). Bytes it lets through that still do
 * not decode are refused by the ingest job, which marks the image failed.
 */
export interface ImageVerifier {
  /** Throws an image input error (code `invalid_image`, …) when the bytes would not decode. */
  verify(image: AcceptedImage): Promise<void>;
}

/**
 * The local server's upload check that keeps its work for the ingest job (src/node/pipeline/upload-prefetch.ts):
 * the verifying decode keeps the pixels, and an idle model worker starts extracting them at once, so
 * each upload is decoded once and its extraction overlaps the upload's writes. The upload route files
 * the ticket under the job it enqueues; that job redeems it. Where the services have one, the route
 * uses it instead of `verifier`.
 */
export interface UploadPrefetch {
  /** Verifies as `ImageVerifier.verify` does (same refusals), keeping what it decoded for a later `redeem`. */
  accept(image: AcceptedImage): Promise<PrefetchTicket>;
  /**
   * The extraction of the job's stored `bytes`, started or prepared when its upload was accepted;
   * undefined when there is none (nothing filed under the job, dropped to stay within bounds, or the
   * stored bytes are no longer the accepted ones). Each ticket is redeemed at most once.
   */
  redeem(job: IngestJob, bytes: Uint8Array): Promise<ExtractedImage> | undefined;
}

/** What `UploadPrefetch.accept` kept for one upload, until a job redeems it. */
export interface PrefetchTicket {
  /** Files the kept work under the job that will ingest the stored bytes (once they are stored). */
  file(job: IngestJob): void;
}

/**
 * Fetches an image's bytes from a caller-given URL without reaching private targets (SSRF-safe):
 * throws ApiError `url_not_allowed` (400), `url_fetch_failed` (422), `payload_too_large` (413) or
 * `url_fetch_timeout` (504). Node: src/node/url-fetch.ts (pinned); the Worker gateway delegates to
 * it through the query function (src/lib/remote/url-fetch.ts).
 */
export interface UrlFetcher {
  fetchBytes(url: string, options: { maxBytes: number }): Promise<Uint8Array>;
}

export interface Services {
  catalog: ImageCatalog;
  blobs: BlobStore;
  vectors: VectorStore;
  jobs: JobQueue;
  text: TextEmbedder;
  renderer: Renderer;
  verifier?: ImageVerifier;
  /** The local server's upload check that keeps its work for the ingest job; used instead of `verifier`. */
  prefetch?: UploadPrefetch;
  /** `POST /v1/images {url}` answers 501 without one. */
  urlFetcher?: UrlFetcher;
  /** Query by example (`POST /v1/search/similar {example}`) answers 501 without one. */
  examples?: ExampleEmbedder;
}
