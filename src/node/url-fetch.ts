/**
 * The Node `UrlFetcher`: undici with a dispatcher whose connector is the policy's gatekeeper, so no
 * DNS-rebinding gap exists between checking an address and connecting to it.
 * - `lookup`: the name is resolved once, every address it resolves to must pass `isAllowedAddress`
 *   (else the whole name is refused), and the socket connects to those very addresses;
 * - after connecting (after the TLS handshake for https, before any request byte is sent) the peer
 *   address is checked again, which also covers IP literals, for which Node skips `lookup`.
 * Redirects, the deadline and the streaming byte cap are the shared loop's (src/lib/url-fetch).
 */
import { promises as dns, type LookupAddress } from "node:dns";
import type { Socket } from "node:net";
import { Agent, buildConnector, fetch as undiciFetch } from "undici";
import { ApiError } from "../lib/errors.js";
import type { UrlFetchLimits } from "../lib/limits.js";
import type { UrlFetcher } from "../lib/services.js";
import { createUrlFetcher } from "../lib/url-fetch/fetch-image.js";
import {
  DEFAULT_URL_POLICY,
  privateResolutionError,
  type UrlPolicy,
} from "../lib/url-fetch/policy.js";

/** Every address a host name resolves to (`dns.lookup`, i.e. the system resolver, by default). */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export interface NodeUrlFetcherOptions extends UrlFetchLimits {
  /** Test seam: another resolver (there is no DNS in CI). */
  resolve?: Resolver;
  /** Test seam, code only: another address rule (the default refuses everything non-public). */
  isAllowedAddress?: UrlPolicy["isAllowedAddress"];
}

const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

type LookupCallback = (
  err: Error | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/** A `net.connect` lookup that refuses a name if any of its addresses is not allowed. */
function guardedLookup(resolve: Resolver, allowed: (ip: string) => boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    resolve(hostname).then(
      (addresses) => {
        if (addresses.length === 0)
          return callback(
            Object.assign(new Error(`no address for ${hostname}`), { code: "ENOTFOUND" }),
            [],
          );
        if (addresses.some((a) => !allowed(a.address)))
          return callback(privateResolutionError(), []);
        if (options.all) return callback(null, addresses);
        callback(null, addresses[0]!.address, addresses[0]!.family);
      },
      (err: Error) => callback(err, []),
    );
  };
}

function pinnedAgent(options: NodeUrlFetcherOptions, allowed: (ip: string) => boolean): Agent {
  const connect = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup: guardedLookup(options.resolve ?? systemResolver, allowed),
  } as buildConnector.BuildOptions);
  return new Agent({
    connect: (opts, callback) =>
      connect(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error("no socket"), null);
        const peer = (socket as Socket).remoteAddress;
        if (peer && allowed(peer)) return callback(null, socket);
        socket.destroy();
        callback(
          new ApiError(
            "url_not_allowed",
            "The image URL is not allowed: it connects to a private or reserved address",
          ),
          null,
        );
      }),
    // One fetch at a time per caller-chosen origin is plenty; idle sockets close quickly.
    connections: 4,
    keepAliveTimeout: 1_000,
  });
}

export function createNodeUrlFetcher(
  options: NodeUrlFetcherOptions,
): UrlFetcher & { close(): Promise<void> } {
  const isAllowedAddress = options.isAllowedAddress ?? DEFAULT_URL_POLICY.isAllowedAddress;
  const agent = pinnedAgent(options, isAllowedAddress);
  const fetcher = createUrlFetcher(
    async (url, init) =>
      (await undiciFetch(url, {
        ...init,
        redirect: "manual",
        dispatcher: agent,
      })) as unknown as Response,
    {
      timeoutMs: options.timeoutMs,
      maxRedirects: options.maxRedirects,
      policy: { allowedPorts: options.allowedPorts, isAllowedAddress },
    },
  );
  return { fetchBytes: fetcher.fetchBytes, close: () => agent.close() };
}
