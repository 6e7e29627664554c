/**
 * Which URLs and addresses an image may be fetched from (SSRF policy). Pure and runtime-neutral: the
 * Node fetcher applies `isAllowedAddress` again to every address a name resolves to and to the peer
 * of every connection; the Worker gateway applies only the literal checks, before delegating the
 * fetch to the query function, which runs the Node fetcher.
 *
 * IP classification is ipaddr.js's (maintained range tables), not hand-written CIDR math. The rule is
 * an allowlist: only global unicast addresses pass; every special range (loopback, private, link-local,
 * CGNAT, multicast, reserved, documentation, 6to4, Teredo…) is refused. An IPv6 address that embeds an
 * IPv4 one (IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`) is judged by the IPv4 address.
 */
import ipaddr from "ipaddr.js";
import { ApiError } from "../errors.js";
import { DEFAULT_URL_FETCH } from "../limits.js";

export interface UrlPolicy {
  /** Ports a URL may name (its scheme's default when it names none). */
  allowedPorts: readonly number[];
  /**
   * True for an address we may connect to. The default is `isPublicAddress`; tests pass another one
   * in code (never through the environment) to reach a loopback server under a test host name.
   */
  isAllowedAddress: (ip: string) => boolean;
}

export const DEFAULT_URL_POLICY: Readonly<UrlPolicy> = Object.freeze({
  allowedPorts: DEFAULT_URL_FETCH.allowedPorts,
  isAllowedAddress: isPublicAddress,
});

/** Longest URL accepted (browsers and CDNs commonly cap near here). */
export const MAX_URL_CHARS = 2048;

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR("2000::/3");
const NAT64_WELL_KNOWN = ipaddr.parseCIDR("64:ff9b::/96");

/** True only for a globally routable unicast IPv4/IPv6 address (`ip` without brackets). */
export function isPublicAddress(ip: string): boolean {
  if (!ipaddr.isValid(ip)) return false;
  const addr = ipaddr.parse(ip);
  if (addr.kind() === "ipv4") return addr.range() === "unicast";
  const v6 = addr as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return isPublicAddress(v6.toIPv4Address().toString());
  if (v6.match(NAT64_WELL_KNOWN)) return isPublicAddress(embeddedIpv4(v6));
  return v6.match(GLOBAL_UNICAST_V6) && v6.range() === "unicast";
}

/** The IPv4 address in the low 32 bits (RFC 6052 /96 prefix). */
function embeddedIpv4(v6: ipaddr.IPv6): string {
  const [hi, lo] = [v6.parts[6]!, v6.parts[7]!];
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join(".");
}

/**
 * The IP address a WHATWG-parsed hostname is, or null for a domain name. The URL parser has already
 * turned every IPv4 spelling (decimal `2130706433`, octal `0177.0.0.1`, hex `0x7f.1`, short `127.1`)
 * into dotted decimal and put IPv6 in brackets, so only those two forms need recognising here.
 */
export function literalAddress(hostname: string): string | null {
  if (hostname.startsWith("[") && hostname.endsWith("]")) return hostname.slice(1, -1);
  return ipaddr.IPv4.isValidFourPartDecimal(hostname) ? hostname : null;
}

const refused = (reason: string) =>
  new ApiError("url_not_allowed", `The image URL is not allowed: ${reason}`);

/** The message for a name whose DNS answer the policy refuses (no address is revealed). */
export const privateResolutionError = (): ApiError =>
  refused("its host name resolves to a private or reserved address");

/** Port the request will connect to. */
const effectivePort = (url: URL): number =>
  url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;

/**
 * Parses and checks one URL (the first, and every redirect target): http(s) only, no credentials,
 * an allowed port, not a `localhost` name, and — for an IP literal — an allowed address.
 * Invalid syntax is a 400 `invalid_request`; a refused target a 400 `url_not_allowed`.
 */
export function checkUrl(raw: string, policy: UrlPolicy, base?: URL): URL {
  if (raw.length > MAX_URL_CHARS)
    throw ApiError.invalid(`url must be at most ${MAX_URL_CHARS} characters`);
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw ApiError.invalid(`${base ? "redirect Location" : "url"} is not a valid absolute URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw refused(`only http and https are fetched, not ${url.protocol.slice(0, -1)}`);
  if (url.username || url.password) throw refused("credentials in URLs are not accepted");
  const port = effectivePort(url);
  if (!policy.allowedPorts.includes(port))
    throw refused(`port ${port} is not allowed (allowed: ${policy.allowedPorts.join(", ")})`);
  const host = url.hostname.replace(/\.$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost"))
    throw refused("localhost is not fetched");
  const ip = literalAddress(url.hostname);
  if (ip !== null && !policy.isAllowedAddress(ip))
    throw refused("the address is private, loopback, link-local or reserved");
  return url;
}
