/**
 * The SSRF address policy (src/lib/url-fetch/policy.ts): which addresses count as public, and which
 * URLs `checkUrl` refuses before any connection — every spelling of a private address included.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/lib/errors.js";
import {
  checkUrl,
  DEFAULT_URL_POLICY,
  isPublicAddress,
  literalAddress,
} from "../../src/lib/url-fetch/policy.js";

function refusal(url: string, policy = DEFAULT_URL_POLICY): ApiError | null {
  try {
    checkUrl(url, policy);
    return null;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe("isPublicAddress", () => {
  it.each([
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "10.255.255.255",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "100.64.0.1",
    "100.127.255.255",
    "169.254.169.254",
    "169.254.0.1",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "192.0.2.10",
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",
    "192.0.0.8",
  ])("refuses IPv4 %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    "::1",
    "::",
    "fe80::1",
    "febf::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "ff05::2",
    "::ffff:127.0.0.1",
    "::ffff:7f00:1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:0.0.0.0",
    "64:ff9b::127.0.0.1",
    "64:ff9b::a00:1",
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a00:1",
    "::127.0.0.1",
    "::ffff:0:a00:1",
    "2001:db8::1",
    "2002:7f00:1::1",
    "2001:0:4136:e378::1",
    "100::1",
    "fec0::1",
  ])("refuses IPv6 %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(false);
  });

  it.each([
    "93.184.216.34",
    "8.8.8.8",
    "1.1.1.1",
    "172.32.0.1",
    "100.128.0.1",
    "2606:4700:4700::1111",
    "2a00:1450:4001:81b::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("accepts public %s", (ip) => {
    expect(isPublicAddress(ip)).toBe(true);
  });

  it("refuses what is not an address at all", () => {
    expect(isPublicAddress("example.com")).toBe(false);
    expect(isPublicAddress("")).toBe(false);
  });
});

describe("checkUrl", () => {
  it.each([
    ["loopback", "http://127.0.0.1/"],
    ["loopback, elsewhere in 127/8", "http://127.9.9.9/x.png"],
    ["unspecified", "http://0.0.0.0/"],
    ["unspecified, as `0`", "http://0/"],
    ["IPv6 loopback", "http://[::1]/"],
    ["IPv6 unspecified", "http://[::]/"],
    ["cloud metadata", "http://169.254.169.254/latest/meta-data/"],
    ["private 10/8", "http://10.1.2.3/"],
    ["private 172.16/12", "https://172.20.0.5/"],
    ["private 192.168/16", "http://192.168.0.1/"],
    ["CGNAT", "http://100.64.1.1/"],
    ["link-local IPv6", "http://[fe80::1]/"],
    ["unique-local IPv6", "http://[fd00::1]/"],
    ["multicast", "http://224.0.0.251/"],
    ["broadcast", "http://255.255.255.255/"],
    ["IPv4-mapped IPv6", "http://[::ffff:127.0.0.1]/"],
    ["IPv4-mapped metadata", "http://[::ffff:169.254.169.254]/"],
    ["NAT64 of loopback", "http://[64:ff9b::127.0.0.1]/"],
    ["NAT64 of private", "http://[64:ff9b::10.0.0.1]/"],
    ["decimal", "http://2130706433/"],
    ["octal", "http://0177.0.0.1/"],
    ["octal, whole", "http://017700000001/"],
    ["hex", "http://0x7f.1/"],
    ["hex, whole", "http://0x7f000001/"],
    ["hex metadata", "http://0xa9.0xfe.0xa9.0xfe/"],
    ["short form", "http://127.1/"],
    ["trailing dot", "http://127.0.0.1./"],
    ["percent-encoded", "http://%31%32%37.0.0.1/"],
    ["full-width digits", "http://１２７.０.０.１/"],
  ])("refuses %s: %s", (_what, url) => {
    const err = refusal(url);
    expect(err?.code).toBe("url_not_allowed");
    expect(err?.status).toBe(400);
    expect(err?.message).toMatch(/private, loopback, link-local or reserved/);
  });

  it.each([
    ["file", "file:///etc/passwd", /only http and https/],
    ["gopher", "gopher://example.com/", /only http and https/],
    ["ftp", "ftp://example.com/a.png", /only http and https/],
    ["data", "data:image/png;base64,iVBORw0KGgo=", /only http and https/],
    ["credentials", "http://user:secret@example.com/a.png", /credentials/],
    ["user only", "https://user@example.com/a.png", /credentials/],
    ["port 22", "http://example.com:22/", /port 22 is not allowed/],
    ["port 6333 (Qdrant)", "http://example.com:6333/", /port 6333/],
    ["https on 80 is fine, 8443 is not", "https://example.com:8443/", /port 8443/],
    ["localhost", "http://localhost/", /localhost/],
    ["localhost, upper case and dot", "http://LOCALHOST./", /localhost/],
    ["a .localhost name", "http://api.localhost/", /localhost/],
  ])("refuses %s", (_what, url, message) => {
    const err = refusal(url);
    expect(err?.code).toBe("url_not_allowed");
    expect(err?.message).toMatch(message);
  });

  it("answers 400 invalid_request for what is no absolute URL, and for an over-long one", () => {
    for (const url of [
      "not a url",
      "/relative.png",
      "http://1.2.3.4.5/",
      "http://[fe80::1%25eth0]/",
    ]) {
      expect(refusal(url)?.code, url).toBe("invalid_request");
    }
    expect(refusal(`https://example.com/${"a".repeat(2048)}`)?.message).toMatch(
      /at most 2048 characters/,
    );
  });

  it("accepts public http(s) URLs on the default ports, and names (their addresses are checked at connect time)", () => {
    for (const url of [
      "https://example.com/a.png",
      "http://example.com:80/a.png",
      "https://93.184.216.34/x",
      "http://[2606:4700:4700::1111]/",
      "https://example.com:443/",
    ]) {
      expect(refusal(url), url).toBeNull();
    }
  });

  it("resolves a redirect Location against the current URL and checks the result", () => {
    const base = new URL("https://example.com/dir/a.png");
    expect(checkUrl("../b.png", DEFAULT_URL_POLICY, base).href).toBe("https://example.com/b.png");
    expect(() => checkUrl("http://169.254.169.254/", DEFAULT_URL_POLICY, base)).toThrow(
      /not allowed/,
    );
  });

  it("takes its ports and address rule from the policy given", () => {
    const policy = { allowedPorts: [8080], isAllowedAddress: (ip: string) => ip === "127.0.0.1" };
    expect(refusal("http://127.0.0.1:8080/", policy)).toBeNull();
    expect(refusal("http://127.0.0.2:8080/", policy)?.code).toBe("url_not_allowed");
    expect(refusal("http://127.0.0.1/", policy)?.message).toMatch(
      /port 80 is not allowed \(allowed: 8080\)/,
    );
  });
});

describe("literalAddress", () => {
  it("recognises the parser's normalised IPv4 and bracketed IPv6, and nothing else", () => {
    expect(literalAddress(new URL("http://0x7f.1/").hostname)).toBe("127.0.0.1");
    expect(literalAddress(new URL("http://[::ffff:127.0.0.1]/").hostname)).toBe("::ffff:7f00:1");
    expect(literalAddress("images.example.com")).toBeNull();
    expect(literalAddress("127.0.0.1.example.com")).toBeNull();
  });
});
