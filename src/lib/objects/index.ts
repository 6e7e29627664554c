/** Images and image records on a flat object store (R2, S3, or the gateway's signed endpoint). */
export * from "./types.js";
export { ObjectBlobStore, parseImageKey } from "./blob-store.js";
export { ObjectCatalog } from "./catalog.js";
export { MemoryObjectStore } from "./memory.js";
export { INTERNAL_PREFIX, OBJECT_RPC_PATH, RemoteObjectStore, objectRpcApp } from "./rpc.js";
