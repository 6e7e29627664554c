/**
 * A host name's addresses as Cloudflare's resolver sees them, over DNS-over-HTTPS (the 1.1.1.1 JSON
 * API; a Worker has no other way to resolve a name). The URL fetcher refuses a name if any answer is
 * not public. This is a check, not a pin: the Worker's own fetch resolves the name again (see
 * docs/gateway-intake.md for the rebinding window that leaves).
 */
import { z } from "zod";
import { ApiError } from "../lib/errors.js";

export const DOH_URL = "https://cloudflare-dns.com/dns-query";

const A = 1;
const AAAA = 28;
const NOERROR = 0;
const NXDOMAIN = 3;

const DohAnswer = z.object({
  Status: z.number().int(),
  Answer: z.array(z.object({ type: z.number().int(), data: z.string() })).optional(),
});

const unresolved = (reason: string) => new ApiError("url_fetch_failed", `The image URL could not be fetched: ${reason}`);

async function query(host: string, type: number, signal: AbortSignal): Promise<z.infer<typeof DohAnswer>> {
  const url = `${DOH_URL}?name=${encodeURIComponent(host)}&type=${type}`;
  const res = await fetch(url, { headers: { accept: "application/dns-json" }, signal });
  if (!res.ok) {
    await res.body?.cancel();
    throw unresolved(`its host name could not be resolved (resolver answered HTTP ${res.status})`);
  }
  const parsed = DohAnswer.safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw unresolved("its host name could not be resolved (malformed resolver answer)");
  return parsed.data;
}

/** Every A and AAAA address of `host` (CNAME chains are followed by the resolver). Throws `url_fetch_failed` when there is none. */
export async function resolveOverDoh(host: string, signal: AbortSignal): Promise<string[]> {
  const name = host.replace(/\.$/, "");
  const answers = await Promise.all([query(name, A, signal), query(name, AAAA, signal)]);
  if (answers.some((a) => a.Status !== NOERROR && a.Status !== NXDOMAIN)) throw unresolved("its host name could not be resolved");
  const addresses = answers.flatMap((a) => (a.Answer ?? []).filter((r) => r.type === A || r.type === AAAA).map((r) => r.data));
  if (addresses.length === 0) throw unresolved("its host name does not resolve");
  return addresses;
}
