/**
 * Metered wrappers, applied where the entries compose their services (src/node/compose.ts,
 * src/node/server/build.ts), so no adapter or model code knows about metrics.
 */
import type { ExampleEmbedder, TextEmbedder } from "../../lib/services.js";
import type { VectorStore } from "../../lib/store/types.js";
import type { Metrics } from "./registry.js";

const STORE_OPS = [
  "upsert",
  "deleteImage",
  "replaceImage",
  "search",
  "get",
  "listImage",
  "count",
  "scan",
] as const satisfies readonly (keyof VectorStore)[];

/** The store with every call timed and every throw counted, by operation. */
export function meteredVectorStore(store: VectorStore, metrics: Metrics): VectorStore {
  const wrapped: Record<string, unknown> = {};
  for (const op of STORE_OPS) {
    const fn = store[op] as ((...args: unknown[]) => Promise<unknown>) | undefined;
    if (!fn) continue;
    wrapped[op] = async (...args: unknown[]) => {
      const end = metrics.vectorStoreSeconds.startTimer({ op });
      try {
        return await fn.apply(store, args);
      } catch (err) {
        metrics.vectorStoreErrors.inc({ op });
        throw err;
      } finally {
        end();
      }
    };
  }
  // Anything else (close, adapter extras such as Qdrant's bootstrap report) passes through.
  return new Proxy(store, {
    get: (target, key, receiver) =>
      typeof key === "string" && key in wrapped ? wrapped[key] : Reflect.get(target, key, receiver),
  });
}

/** Text embedding timed as the `text` model session. */
export function meteredText(text: TextEmbedder, metrics: Metrics): TextEmbedder {
  return {
    pack: text.pack,
    async embedText(query) {
      const end = metrics.modelSeconds.startTimer({ model: "text", use: "query" });
      try {
        return await text.embedText(query);
      } finally {
        end();
      }
    },
  };
}

/** Query by example: its model stages observed as `use="example"`. */
export function meteredExamples(examples: ExampleEmbedder, metrics: Metrics): ExampleEmbedder {
  return {
    pack: examples.pack,
    async embedExample(bytes, prompt) {
      const example = await examples.embedExample(bytes, prompt);
      metrics.observeExtraction(example.timings, "example");
      return example;
    },
  };
}
