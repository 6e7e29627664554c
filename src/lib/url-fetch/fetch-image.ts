/**
 * Fetching an image's bytes from a caller-given URL, the part every runtime shares: the policy check
 * of the URL and of every redirect target (followed by hand, at most `maxRedirects`), one deadline
 * over everything, and a byte cap enforced while the body streams (a missing or lying Content-Length
 * changes nothing). How one request is made — and whether the connected address is pinned to the
 * checked one — is the runtime's `FetchHop` (src/node/url-fetch.ts pins; the Worker gateway has no
 * hop of its own and delegates to that fetcher through the query function).
 */
import { readCappedBody } from "../capped-body.js";
import { ApiError } from "../errors.js";
import type { UrlFetchLimits } from "../limits.js";
import type { UrlFetcher } from "../services.js";
import { checkUrl, type UrlPolicy } from "./policy.js";

/** One HTTP GET that does not follow redirects (`redirect: "manual"`). */
export type FetchHop = (
  url: URL,
  init: { signal: AbortSignal; headers: Record<string, string> },
) => Promise<Response>;

export interface UrlFetchOptions extends Pick<UrlFetchLimits, "timeoutMs" | "maxRedirects"> {
  policy: UrlPolicy;
}

const REQUEST_HEADERS = {
  accept: "image/png, image/jpeg, image/webp",
  "user-agent": "region-search-url-fetch/1",
};
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

export function createUrlFetcher(hop: FetchHop, options: UrlFetchOptions): UrlFetcher {
  return { fetchBytes: (url, { maxBytes }) => fetchBytes(hop, options, url, maxBytes) };
}

async function fetchBytes(
  hop: FetchHop,
  options: UrlFetchOptions,
  raw: string,
  maxBytes: number,
): Promise<Uint8Array> {
  let target = checkUrl(raw, options.policy);
  const signal = AbortSignal.timeout(options.timeoutMs);
  try {
    for (let redirects = 0; ; redirects++) {
      const res = await hop(target, { signal, headers: REQUEST_HEADERS });
      if (!REDIRECTS.has(res.status)) return await readBody(res, maxBytes);
      await res.body?.cancel();
      if (redirects >= options.maxRedirects)
        throw failed(`more than ${options.maxRedirects} redirects`);
      const location = res.headers.get("location");
      if (!location) throw failed(`HTTP ${res.status} redirect without a Location`);
      target = checkUrl(location, options.policy, target);
    }
  } catch (err) {
    throw fetchError(err, signal, options.timeoutMs);
  }
}

const failed = (reason: string) =>
  new ApiError("url_fetch_failed", `The image URL could not be fetched: ${reason}`);

/** The body of a 2xx answer, refused with 413 as soon as it is known (Content-Length) or seen (streaming) to exceed `maxBytes`. */
async function readBody(res: Response, maxBytes: number): Promise<Uint8Array> {
  if (!res.ok) {
    await res.body?.cancel();
    throw failed(`the server answered HTTP ${res.status}`);
  }
  return readCappedBody(
    res as Response & { body: ReadableStream<Uint8Array> | null },
    maxBytes,
    () => new ApiError("payload_too_large", `The image at the URL exceeds ${maxBytes} bytes`),
  );
}

/** `err` and its causes, outermost first (bounded: a cause chain could loop). */
function* causes(err: unknown): Generator<Error> {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++)
    yield e;
}

const codeOf = (e: Error): string | undefined => {
  const code = (e as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
};

/**
 * Any failure → one ApiError. A policy refusal raised deep in a runtime's connector (a DNS answer, a
 * connected peer) arrives wrapped in fetch's `TypeError: fetch failed`, so the cause chain is searched.
 * Network details are reduced to a short reason: the caller learns that it failed, not our network.
 */
function fetchError(err: unknown, signal: AbortSignal, timeoutMs: number): ApiError {
  const chain = [...causes(err)];
  const refusal = chain.find((e): e is ApiError => e instanceof ApiError);
  if (refusal) return refusal;
  if (signal.aborted || chain.some((e) => codeOf(e) === "UND_ERR_CONNECT_TIMEOUT")) {
    return new ApiError(
      "url_fetch_timeout",
      `The image URL did not answer within ${timeoutMs} ms`,
      { cause: err },
    );
  }
  return new ApiError(
    "url_fetch_failed",
    `The image URL could not be fetched: ${networkReason(chain)}`,
    { cause: err },
  );
}

const REASONS: Record<string, string> = {
  ENOTFOUND: "its host name does not resolve",
  EAI_AGAIN: "its host name does not resolve",
  ECONNREFUSED: "the connection was refused",
  ECONNRESET: "the connection was reset",
  UND_ERR_SOCKET: "the connection was closed",
};

function networkReason(chain: Error[]): string {
  for (const e of chain) {
    const reason = REASONS[codeOf(e) ?? ""];
    if (reason) return reason;
    if (/certificate|SSL|TLS/i.test(e.message)) return "its TLS certificate was not accepted";
  }
  return "the connection failed";
}
