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

/** The user fields an upload carries (sent as multipart fields beside the file). */
export interface UploadFields {
  name?: string;
  metadata?: Record<string, unknown>;
}

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

  /** Raw bytes, or multipart (file, name, metadata) when `fields` are given. */
  async upload(
    bytes: Uint8Array,
    contentType: string,
    id?: string,
    fields?: UploadFields,
  ): Promise<{ id: string; status: string }> {
    const params = { query: id ? { id } : {} };
    if (fields) {
      const form = new FormData();
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType });
      form.set("file", blob, fields.name ?? "upload");
      if (fields.name !== undefined) form.set("name", fields.name);
      if (fields.metadata !== undefined) form.set("metadata", JSON.stringify(fields.metadata));
      // openapi-fetch sends FormData as it is, with its own multipart boundary.
      const sent = await this.api.POST("/v1/images", {
        params,
        body: form as unknown as string,
        bodySerializer: (body) => body,
      });
      return unwrap(sent);
    }
    const result = await this.api.POST("/v1/images", {
      params,
      // The raw image is the body (the document's `format: binary`), sent as it is.
      body: bytes as unknown as string,
      bodySerializer: (body) => body,
      headers: { "content-type": contentType },
    });
    return unwrap(result);
  }

  /** PATCH /v1/images/{id}: name and metadata without re-indexing. */
  async patchImage(id: string, fields: UploadFields): Promise<ImageJson> {
    const patched = await this.api.PATCH("/v1/images/{id}", {
      params: { path: { id } },
      body: fields as Schemas["ImagePatch"],
    });
    return unwrap(patched);
  }

  /** Results as the client types them (openapi-fetch reads tuples as arrays). */
  async search(query: string, options: SearchOptions = {}) {
    return unwrap(await this.api.POST("/v1/search", { body: { query, ...options } }));
  }
}
