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

  async upload(
    bytes: Uint8Array,
    contentType: string,
    id?: string,
  ): Promise<{ id: string; status: string }> {
    const query = id ? `?id=${encodeURIComponent(id)}` : "";
    const res = await this.call(`/v1/images${query}`, {
      method: "POST",
      headers: { "content-type": contentType },
      body: bytes as Uint8Array<ArrayBuffer>,
    });
    return res.json() as Promise<{ id: string; status: string }>;
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
