/**
 * Text → fixed-length token ids for the text encoder (docs/model-pack.md "Text").
 * The Hugging Face `tokenizer.json` is run by `@huggingface/tokenizers` (pure JS); the wrapping,
 * truncation and padding are done here from the manifest, so the result does not depend on which
 * post-processor the file carries.
 */
import { Tokenizer } from "@huggingface/tokenizers";
import type { Manifest } from "./manifest.js";

export type TokenizerSettings = Manifest["tokenizer"];

export interface PackTokenizer {
  readonly contextLength: number;
  /**
   * `[bosId, …ids, eosId]` with the content truncated so that `eosId` stays the last real token,
   * right-padded with `padId` to `contextLength`. Plain numbers; see `toInputIds` for the tensor.
   */
  encode(text: string): number[];
}

/** Build the pack tokenizer from the parsed `tokenizer.json`; checks the special ids against its vocab. */
export function createPackTokenizer(tokenizerJson: unknown, settings: TokenizerSettings, where: string): PackTokenizer {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(tokenizerJson as object, {});
  } catch (err) {
    throw new Error(`${where}: tokenizer could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const vocab = tokenizer.get_vocab(true);
  const maxId = Math.max(...vocab.values());
  for (const key of ["bosId", "eosId", "padId"] as const) {
    if (tokenizer.id_to_token(settings[key]) === undefined) throw new Error(`${where}: tokenizer has no token with ${key} ${settings[key]}`);
  }
  if (settings.eosId !== maxId) {
    // CLIP-style text towers pool at argmax(input_ids); that only finds eos when eos is the largest id.
    throw new Error(`${where}: eosId ${settings.eosId} is not the largest token id (${maxId})`);
  }
  const { contextLength, bosId, eosId, padId } = settings;
  return {
    contextLength,
    encode(text: string): number[] {
      const content = tokenizer.encode(text, { add_special_tokens: false }).ids;
      const ids = [bosId, ...content.slice(0, contextLength - 2), eosId];
      while (ids.length < contextLength) ids.push(padId);
      return ids;
    },
  };
}

/** Row-major `[texts.length, contextLength]` ids as the encoder's dtype (int64 → BigInt64Array). */
export function toInputIds(rows: readonly number[][], dtype: "int64" | "int32"): BigInt64Array | Int32Array {
  const width = rows[0]?.length ?? 0;
  const out = dtype === "int64" ? new BigInt64Array(rows.length * width) : new Int32Array(rows.length * width);
  rows.forEach((row, r) => {
    if (row.length !== width) throw new Error(`toInputIds: row ${r} has ${row.length} ids, expected ${width}`);
    row.forEach((id, c) => {
      if (out instanceof BigInt64Array) out[r * width + c] = BigInt(id);
      else out[r * width + c] = id;
    });
  });
  return out;
}
