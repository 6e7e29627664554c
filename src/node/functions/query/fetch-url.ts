/**
 * POST /rpc/fetch-url `{url, maxBytes}` → the image's bytes, fetched here with the pinned Node fetcher
 * (src/node/url-fetch.ts) on the gateway's behalf: a Worker cannot pin the address it connects to.
 * Refusals, timeouts and the byte cap answer with the fetcher's own ApiError, which the gateway's
 * `RemoteUrlFetcher` passes on. The cap is the smaller of the gateway's and this function's.
 */
import { ApiError } from "../../../lib/errors.js";
import { URL_FETCH_RPC_PATH, UrlFetchRequest } from "../../../lib/remote/url-fetch.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import type { FunctionApp, QueryFunctionDeps } from "../types.js";

export function registerFetchUrl(
  app: FunctionApp,
  deps: QueryFunctionDeps,
  maxFetchBytes: number,
): void {
  app.post(URL_FETCH_RPC_PATH, async (c) => {
    if (!deps.urlFetcher)
      throw new ApiError(
        "not_implemented",
        "Fetching images by URL is not enabled on this deployment; upload the image bytes instead",
      );
    const parsed = UrlFetchRequest.safeParse(signedJson(c.get("webhook")));
    if (!parsed.success) throw ApiError.invalid("Expected {url, maxBytes}");
    const bytes = await deps.urlFetcher.fetchBytes(parsed.data.url, {
      maxBytes: Math.min(parsed.data.maxBytes, maxFetchBytes),
    });
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "application/octet-stream",
    });
  });
}
