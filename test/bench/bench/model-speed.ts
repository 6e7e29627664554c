/**
 * Model-FLOP utilisation: each ONNX graph's FLOPs (counted from the graph, flops.ts) divided by its
 * measured time per call, against the machine's MatMul peak measured right before and right after
 * that model (the higher of the two: this VM's speed drifts by up to 1.6× within one run, so a peak
 * taken minutes earlier makes the ratio noise); plus the batched decoder against one call per point.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { ModelPack } from "../../../src/node/models/pack.js";
import { createSegmenter } from "../../../src/node/models/segmenter.js";
import { decodeImage } from "../../../src/node/imaging/index.js";
import { ort } from "../../../src/node/models/session.js";
import { countModelFlops } from "../flops.js";
import type { MatmulProbe } from "../matmul-peak.js";

export interface ModelSpeed {
  model: string;
  batch: number;
  msPerCall: number;
  gflopPerCall: number;
  gflops: number;
  /** The MatMul peak measured next to this model (GFLOP/s), the denominator of `utilisation`. */
  peakGflops: number;
  utilisation: number;
}

const f32 = (dims: number[], fill = 0) =>
  new ort.Tensor("float32", new Float32Array(dims.reduce((a, b) => a * b, 1)).fill(fill), dims);

function feedsFor(
  pack: ModelPack,
  role: "encoder" | "batchedDecoder" | "image" | "text",
  batch: number,
): Record<string, ort.Tensor> {
  const { segmenter: seg, embedder: emb } = pack.manifest;
  const S = seg.imageSize,
    E = emb.imageSize;
  const embShape = seg.encoder.outputs[0]!.shape as number[];
  const low = seg
    .batchedDecoder!.inputs.find((t) => t.name === "mask_input")!
    .shape.slice(2) as number[];
  switch (role) {
    case "encoder":
      return { image: f32([1, 3, S, S], 0.1) };
    case "batchedDecoder":
      return {
        image_embeddings: f32(embShape, 0.1),
        point_coords: f32([batch, 1, 2], S / 3),
        point_labels: f32([batch, 1], 1),
        mask_input: f32([batch, 1, ...low]),
        has_mask_input: f32([batch]),
      };
    case "image":
      return { image: f32([batch, 3, E, E], 0.1), alpha: f32([batch, 1, E, E], 1) };
    case "text": {
      const ids = new BigInt64Array(batch * 77);
      for (let r = 0; r < batch; r++) ids.set([2n, 10n, 20n, 60n], r * 77);
      return { input_ids: new ort.Tensor("int64", ids, [batch, 77]) };
    }
  }
}

/** How long each adjacent peak measurement runs. */
const PEAK_MS = 1000;

async function timeCalls(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  minMs = 1500,
): Promise<number> {
  await session.run(feeds);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs || n < 3) {
    await session.run(feeds);
    n++;
  }
  return (performance.now() - t0) / n;
}

export async function measureModelSpeeds(
  pack: ModelPack,
  peak: MatmulProbe,
  embedBatch: number,
  decoderBatch: number,
): Promise<ModelSpeed[]> {
  const plan = [
    ["encoder", 1],
    ["batchedDecoder", decoderBatch],
    ["image", embedBatch],
    ["text", 1],
  ] as const;
  const out: ModelSpeed[] = [];
  for (const [role, batch] of plan) {
    const session = pack.sessions[role];
    const spec =
      role === "encoder"
        ? pack.manifest.segmenter.encoder
        : role === "batchedDecoder"
          ? pack.manifest.segmenter.batchedDecoder
          : pack.manifest.embedder[role];
    if (!session || !spec) continue;
    const feeds = feedsFor(pack, role, batch);
    const flops = await countModelFlops(path.join(pack.dir, spec.file), feeds);
    const before = await peak.measure(PEAK_MS);
    const ms = await timeCalls(session, feeds);
    const peakGflops = Math.max(before, await peak.measure(PEAK_MS));
    const gflops = flops / 1e9 / (ms / 1000);
    out.push({
      model: spec.file,
      batch,
      msPerCall: ms,
      gflopPerCall: flops / 1e9,
      gflops,
      peakGflops,
      utilisation: gflops / peakGflops,
    });
  }
  return out;
}

/** AMG decoding of one image: batched decoder vs the official decoder one point at a time. */
export async function batchedVsSingle(
  pack: ModelPack,
  pngPath: string,
): Promise<{ batchedMs: number; singleMs: number; ratio: number; points: number }> {
  const image = await decodeImage(new Uint8Array(readFileSync(pngPath)));
  const n = pack.amg.pointsPerSide;
  const points = new Float32Array(n * n * 2);
  const batched = createSegmenter(pack),
    single = createSegmenter(pack, { preferSingleDecoder: true });
  const enc = await batched.encode(image);
  const sx = enc.geometry.resizedW,
    sy = enc.geometry.resizedH;
  for (let i = 0; i < n * n; i++) {
    points[2 * i] = (((i % n) + 0.5) / n) * sx;
    points[2 * i + 1] = ((Math.floor(i / n) + 0.5) / n) * sy;
  }
  const run = async (seg: typeof batched, chunk: number) => {
    const t0 = performance.now();
    for (let s = 0; s < n * n; s += chunk)
      await seg.decode(enc, points.subarray(2 * s, 2 * Math.min(n * n, s + chunk)));
    return performance.now() - t0;
  };
  await run(batched, pack.amg.pointsPerBatch); // warm-up
  const batchedMs = await run(batched, pack.amg.pointsPerBatch);
  const singleMs = await run(single, pack.amg.pointsPerBatch);
  return { batchedMs, singleMs, ratio: singleMs / batchedMs, points: n * n };
}
