/**
 * Fetching an image by URL over signed HTTP (gateway → query function). A Worker's `fetch()` cannot
 * be pinned to the address it was checked against (DNS rebinding), so the query function fetches
 * with the pinned Node fetcher and returns the bytes: `POST /rpc/fetch-url {url, maxBytes}` → the
 * body, or the one error body with the fetcher's own code. The gateway still runs the literal checks
 * first, so an obviously private URL costs no call.
 */
import { z } from "zod";
import { readCappedBody } from "../capped-body.js";
import { ApiError, type ErrorCode } from "../errors.js";
import type { UrlFetcher } from "../services.js";
import { checkUrl, MAX_URL_CHARS, type UrlPolicy } from "../url-fetch/policy.js";
import type { SignedClient } from "../webhooks/client.js";

export const URL_FETCH_RPC_PATH = "/rpc/fetch-url";
export const UrlFetchRequest = z.strictObject({
  url: z.string().min(1).max(MAX_URL_CHARS),
  maxBytes: z.number().int().min(1),
});

/** The fetcher's verdicts on the caller's URL, passed on as they are; any other answer is our own failure. */
const PASSED_ON = new Set<ErrorCode>([
  "invalid_request",
  "url_not_allowed",
  "url_fetch_failed",
  "url_fetch_timeout",
  "payload_too_large",
  "not_implemented",
]);

const ErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string().max(2000) }),
});

export class RemoteUrlFetcher implements UrlFetcher {
  constructor(
    private readonly client: SignedClient,
    /** The literal pre-check: the same rule the query function applies again on every hop. */
    private readonly policy: UrlPolicy,
  ) {}

  async fetchBytes(url: string, { maxBytes }: { maxBytes: number }): Promise<Uint8Array> {
    checkUrl(url, this.policy);
    try {
      const res = await this.client.post(URL_FETCH_RPC_PATH, { url, maxBytes });
      if (!res.ok) throw await answerError(res);
      return await readCappedBody(
        res,
        maxBytes,
        () => new ApiError("payload_too_large", `The image at the URL exceeds ${maxBytes} bytes`),
      );
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError(
        "unavailable",
        "The URL fetch service could not be reached; try again or upload the image bytes",
        { cause: err },
      );
    }
  }
}

async function answerError(res: Response): Promise<ApiError> {
  const parsed = ErrorBody.safeParse(await res.json().catch(() => null));
  if (parsed.success && PASSED_ON.has(parsed.data.error.code as ErrorCode)) {
    return new ApiError(parsed.data.error.code as ErrorCode, parsed.data.error.message);
  }
  // A refused signature (401), a crash or an unknown route: a deployment fault, not the caller's.
  return new ApiError("upstream_error", `The URL fetch service answered HTTP ${res.status}`);
}
