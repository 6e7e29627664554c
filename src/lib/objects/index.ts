/** Images and image records on a flat object store (R2, S3, or the gateway's signed endpoint). */
export type { ObjectStore, StoredObject } from "./types.js";
export { ObjectBlobStore, parseImageKey } from "./blob-store.js";
export { ObjectCatalog } from "./catalog.js";
export { INTERNAL_PREFIX, RemoteObjectStore, objectRpcApp } from "./rpc.js";
