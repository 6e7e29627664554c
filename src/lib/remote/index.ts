/** Service clients of the query function (and their wire schemas, shared with its handlers). */
export { EMBED_RPC_PATH, EmbedRequest, RemoteTextEmbedder } from "./text.js";
export { RENDER_RPC_PATH, RemoteRenderer, RenderRequest } from "./renderer.js";
export { RemoteVectorStore, VECTORS_RPC_PATH, VectorOp, runVectorOp } from "./vectors.js";
export { RemoteUrlFetcher, URL_FETCH_RPC_PATH, UrlFetchRequest } from "./url-fetch.js";
