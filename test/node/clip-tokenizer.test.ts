/**
 * CLIP's tokenizer as the pack carries it: tokenizer.json built by infra/models/export/tokenizer.py
 * from CLIP's BPE file (vendored in third_party/clip), run by @huggingface/tokenizers through the
 * pack tokenizer, against hand-verified ids (test/fixtures/clip-tokenizer-cases.json, which the
 * Python tests also check against an implementation of CLIP's SimpleTokenizer).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createPackTokenizer, type TokenizerSettings } from "../../src/node/models/tokenizer.js";
import { pythonBin } from "../setup/shapes-fixtures.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BPE = path.resolve(ROOT, "third_party/clip/bpe_simple_vocab_16e6.txt.gz");
const tmp = mkdtempSync(path.join(tmpdir(), "clip-tokenizer-"));
const file = path.join(tmp, "tokenizer.json");
const script =
  "import json, sys; from export.tokenizer import write_tokenizer; print(json.dumps(write_tokenizer(sys.argv[1], sys.argv[2])))";
const settings = JSON.parse(
  execFileSync(pythonBin(), ["-c", script, BPE, file], {
    cwd: path.join(ROOT, "infra/models"),
    encoding: "utf8",
  }),
) as TokenizerSettings;
const tok = createPackTokenizer(
  JSON.parse(readFileSync(file, "utf8")),
  settings,
  "clip tokenizer.json",
);
const { cases } = JSON.parse(
  readFileSync(path.join(ROOT, "test/fixtures/clip-tokenizer-cases.json"), "utf8"),
) as { cases: { text: string; ids: number[] }[] };

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("CLIP tokenizer.json", () => {
  it("has CLIP's settings: start 49406, end 49407, pad 0, context 77", () => {
    expect(settings).toEqual({
      file: "tokenizer.json",
      contextLength: 77,
      bosId: 49406,
      eosId: 49407,
      padId: 0,
    });
  });

  it.each(cases)("$text → CLIP's ids", ({ text, ids }) => {
    const got = tok.encode(text);
    expect(got.slice(0, ids.length + 2)).toEqual([49406, ...ids, 49407]);
    expect(got.slice(ids.length + 2).every((id) => id === 0)).toBe(true);
    expect(got).toHaveLength(77);
  });

  it("truncates over-long input to 77 ids, keeping the end token last", () => {
    const word = tok.encode("photo")[1]!;
    const got = tok.encode("photo ".repeat(200));
    expect(got).toHaveLength(77);
    expect(got[0]).toBe(49406);
    expect(got[76]).toBe(49407);
    expect(got.slice(1, 76).every((id) => id === word)).toBe(true);
  });
});
