import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createPackTokenizer, toInputIds } from "../../src/node/models/tokenizer.js";
import { PACK_DIR } from "./pack-helpers.js";

const json = JSON.parse(readFileSync(path.join(PACK_DIR, "tokenizer.json"), "utf8")) as {
  model: { vocab: Record<string, number> };
};
const manifest = JSON.parse(readFileSync(path.join(PACK_DIR, "manifest.json"), "utf8")) as {
  tokenizer: { file: string; contextLength: number; bosId: number; eosId: number; padId: number };
};
const settings = manifest.tokenizer;
const vocab = json.model.vocab;
const tok = createPackTokenizer(json, settings, "test");

/** docs/model-pack.md: lowercase → `\w+|[^\w\s]+` → vocab lookup (unknown → <|unk|>). */
function reference(text: string): number[] {
  const words = text.toLowerCase().match(/\w+|[^\w\s]+/g) ?? [];
  return words.map((w) => vocab[w] ?? vocab["<|unk|>"]!);
}

describe("pack tokenizer", () => {
  it("maps known words to their vocab ids, wrapped in bos/eos and padded", () => {
    const ids = tok.encode("A small striped RED star");
    const words = ["a", "small", "striped", "red", "star"].map((w) => vocab[w]!);
    expect(words.every((id) => typeof id === "number")).toBe(true);
    expect(ids.slice(0, 7)).toEqual([settings.bosId, ...words, settings.eosId]);
    expect(ids).toHaveLength(settings.contextLength);
    expect(ids.slice(7).every((id) => id === settings.padId)).toBe(true);
  });

  it("agrees with the reference rule on punctuation, case and unknown words", () => {
    for (const text of [
      "the circle LEFT of the blue square!",
      "zebra, giraffe: a star?",
      "",
      "   two   green   triangles  ",
    ]) {
      const ids = tok.encode(text);
      const want = [settings.bosId, ...reference(text), settings.eosId];
      expect(ids.slice(0, want.length)).toEqual(want);
    }
    expect(tok.encode("zebra")[1]).toBe(vocab["<|unk|>"]);
  });

  it("truncates long texts keeping eos as the last real token", () => {
    const ids = tok.encode(Array.from({ length: 200 }, () => "red").join(" "));
    expect(ids).toHaveLength(settings.contextLength);
    expect(ids[0]).toBe(settings.bosId);
    expect(ids[settings.contextLength - 1]).toBe(settings.eosId);
    expect(ids.slice(1, -1).every((id) => id === vocab["red"])).toBe(true);
  });

  it("builds int64 or int32 input_ids rows", () => {
    const rows = [tok.encode("a red star"), tok.encode("blue")];
    const i64 = toInputIds(rows, "int64");
    expect(i64).toBeInstanceOf(BigInt64Array);
    expect(i64.length).toBe(2 * settings.contextLength);
    expect(i64[settings.contextLength + 1]).toBe(BigInt(vocab["blue"]!));
    const i32 = toInputIds(rows, "int32");
    expect(Array.from(i32.subarray(0, 3) as Int32Array)).toEqual(rows[0]!.slice(0, 3));
  });

  it("refuses settings whose eos is not the largest id (CLIP pools at argmax)", () => {
    expect(() =>
      createPackTokenizer(json, { ...settings, eosId: settings.bosId }, "pack x"),
    ).toThrow(/pack x: eosId \d+ is not the largest token id/);
  });
});
