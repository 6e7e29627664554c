/**
 * The CLI's view of the public API: a few typed calls over any `fetch`-shaped function, so the same
 * commands run against a server over HTTP or against the embedded app in-process (`app.request`).
 */
export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ImageJson {
  id: string;
  status: "queued" | "processing" | "indexed" | "failed";
  regionCount: number | null;
  pack: string | null;
  width: number | null;
  height: number | null;
  error?: string;
  errorCode?: string;
  name?: string | null;
  metadata?: Record<string, unknown>;
}

/** The user fields an upload carries (sent as multipart fields beside the file). */
export interface UploadFields {
  name?: string;
  metadata?: Record<string, unknown>;
}

export interface SearchResultJson {
  regionId: string;
  imageId: string;
  score: number;
  bbox: [number, number, number, number];
  area: number;
  mask: { size: [number, number]; counts: string };
}

export interface SearchOptions {
  limit?: number;
  groupByImage?: boolean;
  minArea?: number;
  imageIds?: string[];
}

/** An error answer of the API: status, code and message from its one error body. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiCallError";
  }
}

export class ApiClient {
  constructor(
    private readonly fetchFn: FetchLike,
    private readonly baseUrl: string,
    private readonly apiKey?: string,
  ) {}

  async health(): Promise<{ status: string; pack: string }> {
    return (await this.call("/healthz")).json() as Promise<{ status: string; pack: string }>;
  }

  /** The image record, or null when there is none under this id. */
  async getImage(id: string): Promise<ImageJson | null> {
    try {
      return (await (await this.call(`/v1/images/${encodeURIComponent(id)}`)).json()) as ImageJson;
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
    const query = id ? `?id=${encodeURIComponent(id)}` : "";
    let init: RequestInit = {
      method: "POST",
      headers: { "content-type": contentType },
      body: bytes as Uint8Array<ArrayBuffer>,
    };
    if (fields) {
      const form = new FormData();
      const blob = new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType });
      form.set("file", blob, fields.name ?? "upload");
      if (fields.name !== undefined) form.set("name", fields.name);
      if (fields.metadata !== undefined) form.set("metadata", JSON.stringify(fields.metadata));
      init = { method: "POST", body: form };
    }
    const res = await this.call(`/v1/images${query}`, init);
    return res.json() as Promise<{ id: string; status: string }>;
  }

  /** PATCH /v1/images/{id}: name and metadata without re-indexing. */
  async patchImage(id: string, fields: UploadFields): Promise<ImageJson> {
    const res = await this.call(`/v1/images/${encodeURIComponent(id)}`, {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(fields),
    });
    return res.json() as Promise<ImageJson>;
  }

  async search(
    query: string,
    options: SearchOptions = {},
  ): Promise<{ results: SearchResultJson[]; tookMs: number }> {
    const res = await this.call("/v1/search", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query, ...options }),
    });
    return res.json() as Promise<{ results: SearchResultJson[]; tookMs: number }>;
  }

  private async call(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.apiKey) headers.set("authorization", `Bearer ${this.apiKey}`);
    const res = await this.fetchFn(`${this.baseUrl}${path}`, { ...init, headers });
    if (res.ok) return res;
    let code = `http_${res.status}`;
    let message = `${res.status} ${res.statusText}`.trim();
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      code = body.error?.code ?? code;
      message = body.error?.message ?? message;
    } catch {
      // Not the API's JSON error body (a proxy page, say): keep the status line.
    }
    throw new ApiCallError(res.status, code, message);
  }
}
