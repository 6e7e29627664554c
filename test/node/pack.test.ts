import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadModelPack } from "../../src/node/models/pack.js";
import { PACK_DIR, packCopy } from "./pack-helpers.js";

type Copy = Awaited<ReturnType<typeof packCopy>>;
let copy: Copy | null = null;
afterEach(async () => {
  await copy?.cleanup();
  copy = null;
});

/** The manifest's tensor list of one model (`segmenter.decoder.inputs`, …). */
function tensors(
  m: Copy["manifest"],
  section: "segmenter" | "embedder",
  model: string,
  side: "inputs" | "outputs",
) {
  const s = m[section] as Record<
    string,
    { inputs: { name: string; shape: unknown[] }[]; outputs: { name: string; shape: unknown[] }[] }
  >;
  return s[model]![side];
}

describe("loadModelPack", () => {
  it("loads the bundled pack: sessions, tokenizer, AMG parameters", async () => {
    const pack = await loadModelPack(PACK_DIR, { session: { intraOpNumThreads: 1 } });
    try {
      expect(pack.id).toMatch(/^shapes-tiny@/);
      // The bundled pack is dual-view: its plain CLIP image tower is part of ingestion, so it loads by default.
      expect(Object.keys(pack.sessions).sort()).toEqual([
        "batchedDecoder",
        "clipImage",
        "decoder",
        "encoder",
        "image",
        "text",
      ]);
      expect(pack.vectorDim).toBe(2 * pack.manifest.embedder.embedDim);
      expect(pack.amg.pointsPerSide).toBe(16);
      expect(pack.tokenizer.contextLength).toBe(77);
    } finally {
      await pack.release();
    }
  });

  it("refuses a manifest whose decoder lacks a required input name", async () => {
    copy = await packCopy();
    const inputs = tensors(copy.manifest, "segmenter", "decoder", "inputs");
    inputs.find((t) => t.name === "point_labels")!.name = "labels";
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /segmenter-decoder\.onnx\): input "point_labels" missing \(has: image_embeddings, point_coords, labels/,
    );
  });

  it("refuses a model whose real inputs differ from the manifest (session metadata)", async () => {
    copy = await packCopy();
    // Point the single-prompt decoder slot at the batched file: it has no orig_im_size input.
    const decoder = (copy.manifest.segmenter as { decoder: { file: string } }).decoder;
    decoder.file = "segmenter-decoder-batched.onnx";
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /model pack .*: segmenter-decoder-batched\.onnx: input "orig_im_size" missing \(has: image_embeddings, point_coords, point_labels, mask_input, has_mask_input\)/,
    );
  });

  it("refuses a wrong rank", async () => {
    copy = await packCopy();
    tensors(copy.manifest, "segmenter", "batchedDecoder", "inputs").find(
      (t) => t.name === "point_labels",
    )!.shape = ["B", "N", 1];
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /segmenter-decoder-batched\.onnx: input "point_labels" has rank 2 \[B, N\], manifest says rank 3/,
    );
  });

  it("refuses fixed dims that disagree with the model, and manifest shapes that disagree with its sizes", async () => {
    copy = await packCopy();
    tensors(copy.manifest, "segmenter", "decoder", "inputs").find(
      (t) => t.name === "mask_input",
    )!.shape = [1, 1, 64, 64];
    tensors(copy.manifest, "segmenter", "batchedDecoder", "inputs").find(
      (t) => t.name === "image_embeddings",
    )!.shape[0] = "B";
    await copy.write();
    const err = await loadModelPack(copy.dir).catch((e: Error) => e);
    expect(String(err)).toMatch(
      /segmenter-decoder\.onnx: input "mask_input" dim 2 is 128, manifest says 64/,
    );
    expect(String(err)).toMatch(
      /segmenter-decoder-batched\.onnx: input "image_embeddings" dim 0 is fixed at 1, manifest says dynamic "B"/,
    );
    (copy.manifest.embedder as { embedDim: number }).embedDim = 64;
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /alpha-clip-image\.onnx: output "embedding" shape \[B, 128\], expected \[\*, 64\]/,
    );
    (copy.manifest.segmenter as { imageSize: number }).imageSize = 512;
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx: input "image" shape \[1, 3, 256, 256\], expected \[1, 3, 512, 512\]/,
    );
  });

  it("refuses a file whose sha256 does not match", async () => {
    copy = await packCopy();
    const bytes = await readFile(path.join(PACK_DIR, "tokenizer.json"));
    const tampered = Buffer.from(bytes);
    tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 0x01; // same size, different content
    await copy.replaceFile("tokenizer.json", tampered);
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /tokenizer\.json: sha256 [0-9a-f]{64}, manifest says [0-9a-f]{64}/,
    );
  });

  it("refuses a missing file and a file with the wrong size", async () => {
    copy = await packCopy();
    await copy.removeFile("segmenter-encoder.onnx");
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /segmenter-encoder\.onnx: listed in the manifest but cannot be read \(ENOENT\)/,
    );
    await copy.replaceFile("segmenter.json", new TextEncoder().encode("{}"));
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /segmenter\.json: 2 bytes, manifest says \d+/,
    );
  });

  it("refuses a model file onnxruntime cannot parse, naming it", async () => {
    copy = await packCopy();
    await copy.replaceFile("alpha-clip-text.onnx", new TextEncoder().encode("not a model"));
    await copy.reseal();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /alpha-clip-text\.onnx: onnxruntime cannot load it/,
    );
  });

  it("refuses an invalid manifest with the failing field's path", async () => {
    copy = await packCopy();
    delete (copy.manifest.tokenizer as { eosId?: number }).eosId;
    copy.manifest["format"] = "something/2";
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /invalid manifest: format: .*; tokenizer\.eosId: /,
    );
  });

  it("refuses a file path that leaves the pack folder", async () => {
    copy = await packCopy();
    copy.manifest.files.push({ path: "../outside.onnx", bytes: 1, sha256: "0".repeat(64) });
    await copy.write();
    await expect(loadModelPack(copy.dir)).rejects.toThrow(
      /\.\.\/outside\.onnx: path leaves the pack folder/,
    );
  });
});
