/**
 * `region-search/client`: a typed client of the public API. The types are generated from the served
 * OpenAPI document (src/generated/client/, `npm run generate:client`); requests go through
 * openapi-fetch, so every path, parameter, body and answer is checked by the compiler. Runs
 * anywhere `fetch` does (Node, Workers, browsers).
 *
 * ```ts
 * const api = createRegionSearchClient({ baseUrl: "http://localhost:8080", apiKey });
 * const { results } = unwrap(await api.POST("/v1/search", { body: { query: "red star" } }));
 * ```
 */
import createFetchClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../../generated/client/schema.js";

export type { components, paths };
/** The API's named schemas (`Schemas["SearchResult"]`, …). */
export type Schemas = components["schemas"];
export type RegionSearchClient = Client<paths>;

export interface RegionSearchClientOptions {
  /** The server's root, e.g. `http://localhost:8080` (no trailing `/v1`). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>` when the server has API keys. */
  apiKey?: string | undefined;
  /** Another `fetch` (an in-process app's `request`, a test double); default `globalThis.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
}

export function createRegionSearchClient(options: RegionSearchClientOptions): RegionSearchClient {
  const client = createFetchClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const { apiKey } = options;
  if (apiKey)
    client.use({
      onRequest({ request }) {
        request.headers.set("authorization", `Bearer ${apiKey}`);
        return request;
      },
    });
  return client;
}

/** An error answer of the API: its status and the code and message of its one error body. */
export class ApiCallError extends Error {
  override readonly name = "ApiCallError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** The answer's data, or its error body thrown as `ApiCallError` (a non-API body keeps the status line). */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  const { response } = result;
  if (response.ok) return result.data as T;
  const body = (result.error ?? {}) as {
    error?: { code?: string; message?: string; requestId?: string };
  };
  throw new ApiCallError(
    response.status,
    body.error?.code ?? `http_${response.status}`,
    body.error?.message ?? `${response.status} ${response.statusText}`.trim(),
    body.error?.requestId,
  );
}
