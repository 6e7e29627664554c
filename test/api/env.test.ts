/** The local server's vector-store settings: VECTOR_STORE and the QDRANT_* group, parsed once. */
import { describe, expect, it } from "vitest";
import { parseEnv } from "../../src/node/server/env.js";
import { vectorStoreSettings } from "../../src/node/storage-env.js";

describe("VECTOR_STORE and QDRANT_* in the local server's environment", () => {
  it("defaults to the embedded store and needs no Qdrant settings", () => {
    const env = parseEnv({});
    expect(env).toMatchObject({
      VECTOR_STORE: "embedded",
      QDRANT_COLLECTION: "regions",
      QDRANT_QUANTIZATION: false,
      QDRANT_TIMEOUT_MS: 10_000,
    });
    expect(env.QDRANT_URL).toBeUndefined();
    expect(vectorStoreSettings(env, 512)).toEqual({ kind: "embedded" });
  });

  it("VECTOR_STORE=qdrant → store options, with the dimension from the model pack", () => {
    const env = parseEnv({
      VECTOR_STORE: "qdrant",
      QDRANT_URL: "https://q.example:6333",
      QDRANT_API_KEY: "k",
      QDRANT_COLLECTION: "regions_live",
      QDRANT_QUANTIZATION: "1",
      QDRANT_TIMEOUT_MS: "2500",
      METADATA_INDEXES: "sku:keyword, price:float,taken:datetime",
    });
    expect(vectorStoreSettings(env, 768)).toEqual({
      kind: "qdrant",
      options: {
        url: "https://q.example:6333",
        apiKey: "k",
        collection: "regions_live",
        quantization: true,
        timeoutMs: 2500,
        metadataIndexes: [
          { key: "sku", type: "keyword" },
          { key: "price", type: "float" },
          { key: "taken", type: "datetime" },
        ],
        dim: 768,
      },
    });
    expect(
      vectorStoreSettings(parseEnv({ VECTOR_STORE: "qdrant", QDRANT_URL: "http://q:6333" }), 32),
    ).toEqual({
      kind: "qdrant",
      options: {
        url: "http://q:6333",
        apiKey: undefined,
        collection: "regions",
        quantization: false,
        timeoutMs: 10_000,
        metadataIndexes: [],
        dim: 32,
      },
    });
  });

  it("refuses bad values, naming the variable", () => {
    const qdrant = { VECTOR_STORE: "qdrant", QDRANT_URL: "http://q:6333" };
    expect(() => parseEnv({ VECTOR_STORE: "pinecone" })).toThrow(/VECTOR_STORE/);
    expect(() => parseEnv({ VECTOR_STORE: "qdrant" })).toThrow(
      /QDRANT_URL: QDRANT_URL is required with VECTOR_STORE=qdrant/,
    );
    expect(() => parseEnv({ ...qdrant, QDRANT_URL: "ftp://q" })).toThrow(/QDRANT_URL/);
    expect(() => parseEnv({ ...qdrant, QDRANT_COLLECTION: "a/b" })).toThrow(/QDRANT_COLLECTION/);
    expect(() => parseEnv({ ...qdrant, QDRANT_QUANTIZATION: "yes" })).toThrow(
      /QDRANT_QUANTIZATION/,
    );
    expect(() => parseEnv({ ...qdrant, QDRANT_TIMEOUT_MS: "0" })).toThrow(/QDRANT_TIMEOUT_MS/);
    expect(() => parseEnv({ ...qdrant, QDRANT_API_KEY: "" })).toThrow(/QDRANT_API_KEY/);
    expect(() => parseEnv({ ...qdrant, METADATA_INDEXES: "sku:text" })).toThrow(
      /METADATA_INDEXES: "sku:text": type must be one of keyword, integer, float, bool, datetime/,
    );
    expect(() => parseEnv({ ...qdrant, METADATA_INDEXES: "a.b" })).toThrow(/METADATA_INDEXES/);
    expect(() => parseEnv({ ...qdrant, METADATA_INDEXES: "a,a:integer" })).toThrow(/twice/);
    // Set but unused is still checked: a typo should not wait for the day someone switches stores.
    expect(() => parseEnv({ QDRANT_URL: "not a url" })).toThrow(/QDRANT_URL/);
  });
});
