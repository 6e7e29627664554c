/**
 * Shared by the `region-search reindex` tests: data directories filled the way the server fills them
 * (catalog record, blob, `processIngestJob` into the store), and fake model packs of another id and
 * vector length — deterministic, no models.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import sharp from "sharp";
import { processIngestJob } from "../../src/lib/ingest.js";
import type { ExtractedImage, RegionExtractor } from "../../src/lib/services.js";
import type { VectorStore } from "../../src/lib/store/types.js";
import { DiskBlobStore } from "../../src/node/blobs/disk-blobs.js";
import { FileCatalog } from "../../src/node/catalog/file-catalog.js";
import type { CliIo } from "../../src/node/cli/io.js";
import type { LoadedPack, PackLoader } from "../../src/node/cli/reindex.js";
import { FAKE_DIM, FakeExtractor, normalize, sha256 } from "../support/fakes.js";

export const OLD_PACK = "old@1";
export const NEW_PACK = "new@2";

/**
 * A fake pack whose vectors are FakeExtractor's repeated `times` times (normalised): another vector
 * length for `times` > 1, like a dual-view pack next to an alpha-only one.
 */
export class WideExtractor implements RegionExtractor {
  readonly inner: FakeExtractor;
  calls: string[] = [];
  /** Throws on the image whose bytes hash to this (an interrupted run). */
  failOn: string | null = null;
  /** Vector length overrides per call (a pack that changes layout mid-run). */
  dimOverride: number | null = null;

  constructor(
    readonly pack: string,
    readonly times: number,
  ) {
    this.inner = new FakeExtractor(pack);
  }

  get dim(): number {
    return FAKE_DIM * this.times;
  }

  async extract(bytes: Uint8Array): Promise<ExtractedImage> {
    const key = sha256(bytes);
    this.calls.push(key);
    if (this.failOn === key) throw new Error("model crashed (injected)");
    const out = await this.inner.extract(bytes);
    const widen = (v: Float32Array) => {
      const w = new Float32Array(this.dimOverride ?? this.dim);
      for (let i = 0; i < w.length; i++) w[i] = v[i % v.length]!;
      return normalize(w);
    };
    return {
      ...out,
      imageVector: widen(out.imageVector),
      regions: out.regions.map((r) => ({ ...r, vector: widen(r.vector) })),
    };
  }
}

/** A loader for `runReindex` that hands out `extractor` as the pack at any folder. */
export function fakeLoader(extractor: WideExtractor): PackLoader & { released: number } {
  const loader = Object.assign(
    async (): Promise<LoadedPack> => ({
      id: extractor.pack,
      vectorDim: extractor.dim,
      extractor,
      release: async () => void loader.released++,
    }),
    { released: 0 },
  );
  return loader;
}

export async function tempDataDir(prefix = "rs-reindex-"): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** A distinct solid PNG per `n`. */
export async function png(n: number, width = 40, height = 30): Promise<Uint8Array> {
  const background = { r: (n * 53) % 256, g: (n * 97) % 256, b: (n * 191) % 256 };
  return new Uint8Array(
    await sharp({ create: { width, height, channels: 3, background } })
      .png()
      .toBuffer(),
  );
}

/** What an upload + ingest job leaves behind: record, blob and points of `extractor`'s pack. */
export async function seedImage(
  dataDir: string,
  vectors: VectorStore,
  extractor: RegionExtractor,
  tenant: string,
  imageId: string,
  bytes: Uint8Array,
): Promise<void> {
  const catalog = new FileCatalog(dataDir);
  const blobs = new DiskBlobStore(dataDir);
  const now = new Date().toISOString();
  await blobs.put(tenant, imageId, bytes, "image/png");
  await catalog.put({
    tenant,
    id: imageId,
    status: "queued",
    contentType: "image/png",
    bytes: bytes.length,
    sha256: sha256(bytes),
    attempts: 0,
    createdAt: now,
    updatedAt: now,
  });
  const outcome = await processIngestJob(
    { catalog, blobs, vectors, extractor },
    { tenant, imageId },
  );
  if (outcome.status !== "indexed")
    throw new Error(`seeding ${tenant}/${imageId}: ${JSON.stringify(outcome)}`);
}

/** An image deleted as the API deletes one: record, blob, points. */
export async function deleteImage(
  dataDir: string,
  vectors: VectorStore,
  tenant: string,
  imageId: string,
): Promise<void> {
  await new FileCatalog(dataDir).delete(tenant, imageId);
  await new DiskBlobStore(dataDir).delete(tenant, imageId);
  await vectors.deleteImage(tenant, imageId);
}

/** A CliIo collecting what the command prints. */
export function captureIo(
  env: Record<string, string | undefined>,
): CliIo & { output: () => { out: string; err: string } } {
  let out = "";
  let err = "";
  return {
    env,
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    output: () => ({ out, err }),
  };
}
