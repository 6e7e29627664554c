/**
 * The CLI's view of the public API: the typed client (`region-search/client`, src/lib/client),
 * generated from the served OpenAPI document, over any `fetch`-shaped function, so the same commands
 * run against a server over HTTP or against the embedded app in-process (`app.request`).
 */
import {
  ApiCallError,
  createRegionSearchClient,
  unwrap,
  type RegionSearchClient,
  type Schemas,
} from "../../lib/client/index.js";

export { ApiCallError };
export type FetchLike = (input: Request) => Promise<Response>;

export type ImageJson = Schemas["Image"];
export type SearchOptions = Omit<Schemas["SearchRequest"], "query">;

export class ApiClient {
  private readonly api: RegionSearchClient;

  constructor(fetchFn: FetchLike, baseUrl: string, apiKey?: string) {
    this.api = createRegionSearchClient({ baseUrl, apiKey, fetch: fetchFn });
  }

  async health(): Promise<{ status: string; pack: string }> {
    return unwrap(await this.api.GET("/healthz"));
  }

  /** The image record, or null when there is none under this id. */
  async getImage(id: string): Promise<ImageJson | null> {
    try {
      return unwrap(await this.api.GET("/v1/images/{id}", { params: { path: { id } } }));
    } catch (err) {
      if (err instanceof ApiCallError && err.status === 404) return null;
      throw err;
    }
  }

  async upload(
    bytes: Uint8Array,
    contentType: string,
    id?: string,
  ): Promise<{ id: string; status: string }> {
    const result = await this.api.POST("/v1/images", {
      params: { query: id ? { id } : {} },
      // The raw image is the body (the document's `format: binary`), sent as it is.
      body: bytes as unknown as string,
      bodySerializer: (body) => body,
      headers: { "content-type": contentType },
    });
    return unwrap(result);
  }

  /** Results as the client types them (openapi-fetch reads tuples as arrays). */
  async search(query: string, options: SearchOptions = {}) {
    return unwrap(await this.api.POST("/v1/search", { body: { query, ...options } }));
  }
}
