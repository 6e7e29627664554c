/**
 * Service clients of the query function, and the wire schemas and RPC paths of both functions
 * (shared with their handlers): each path is declared once, here.
 */
export { EMBED_RPC_PATH, EmbedRequest, RemoteTextEmbedder } from "./text.js";
export { RENDER_RPC_PATH, RemoteRenderer, RenderRequest } from "./renderer.js";
export { RemoteVectorStore, VECTORS_RPC_PATH, VectorOp, runVectorOp } from "./vectors.js";
export { RemoteUrlFetcher, URL_FETCH_RPC_PATH, UrlFetchRequest } from "./url-fetch.js";
export { INGEST_JOB_PATH, IngestJobRequest, STORAGE_WEBHOOK_PATH } from "./ingest.js";
