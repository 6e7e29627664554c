// The suite against the brute-force reference store: a failure here is a bug in the suite itself.
import { vectorStoreConformance } from "./conformance.js";
import { MemoryVectorStore } from "./memory-store.js";

vectorStoreConformance("memory (reference)", {
  open: async () => new MemoryVectorStore(),
  persistent: false,
});
