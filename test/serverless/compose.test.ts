/**
 * The compose files start every service they list (issue 19, item 7). No Docker engine runs here, so
 * each service built from infra/deploy/Dockerfile is checked the way the container would start it:
 * its command names an entry that exists, its environment (with `${VAR:?…}` filled as an operator
 * must, `${VAR:-default}` as compose would) parses with that entry's own zod schema, its health check
 * probes `/healthz` on the port the entry listens on, and a published port maps to that port.
 */
import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { parseEnv as parseServerEnv } from "../../src/node/server/env.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What an operator sets for the required variables (`${VAR:?message}`). */
const OPERATOR = {
  WEBHOOK_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  GATEWAY_URL: "https://api.example.com",
  QDRANT_API_KEY: "0123456789abcdef0123456789abcdef",
};

function interpolate(value: unknown): string {
  return String(value).replace(/\$\{(\w+)(?::([?-])([^}]*))?\}/g, (_, name: string, op, rest) => {
    const set = (OPERATOR as Record<string, string>)[name];
    if (set !== undefined) return set;
    if (op === "-") return rest as string;
    throw new Error(`\${${name}} has no value and no default`);
  });
}

const ENTRIES: Record<string, (env: Record<string, string>) => { PORT: number }> = {
  "functions/ingest.ts": parseFunctionEnv,
  "functions/query.ts": parseFunctionEnv,
  "functions/local.ts": parseServerEnv,
};

/** The Dockerfile's default command and its ENV lines (the container's environment before compose's). */
function dockerfile() {
  const text = readFileSync("infra/deploy/Dockerfile", "utf8");
  const cmd = JSON.parse(/^CMD (.+)$/m.exec(text)![1]!) as string[];
  const envBlock = /^ENV ((?:.*\\\n)*.*)$/gm;
  const env: Record<string, string> = {};
  for (const m of text.matchAll(envBlock)) {
    for (const pair of m[1]!.replace(/\\\n/g, " ").trim().split(/\s+/)) {
      const [k, v] = pair.split("=");
      if (k && v !== undefined) env[k] = v;
    }
  }
  return { cmd, env };
}

function checkService(name: string, svc: Json) {
  const image = dockerfile();
  const command = (svc.command as string[] | undefined) ?? image.cmd;
  const entry = command[0]!;
  expect(existsSync(entry), `${name}: ${entry}`).toBe(true);
  const parseEntryEnv = ENTRIES[entry];
  expect(parseEntryEnv, `${name}: no schema known for ${entry}`).toBeDefined();
  const env = { ...image.env };
  for (const [k, v] of Object.entries((svc.environment ?? {}) as Record<string, unknown>))
    env[k] = interpolate(v);
  const parsed = parseEntryEnv!(env);
  const probe = (svc.healthcheck?.test as string[]).join(" ");
  expect(probe, `${name}: health check`).toContain(`127.0.0.1:${parsed.PORT}/healthz`);
  // The probe is `node -e <script>`: the script must at least be valid JavaScript.
  expect(() => new Function(svc.healthcheck.test.at(-1) as string)).not.toThrow();
  for (const p of (svc.ports ?? []) as string[]) expect(p.endsWith(`:${parsed.PORT}`)).toBe(true);
}

describe("compose files start every service they list", () => {
  it("infra/deploy/compose.yaml: ingest and query functions on Qdrant, with the secret and gateway required", () => {
    const compose = parse(readFileSync("infra/deploy/compose.yaml", "utf8")) as Json;
    const { ingest, query, qdrant } = compose.services as Record<string, Json>;
    checkService("ingest", ingest!);
    checkService("query", query!);
    expect(ingest!.command).toEqual(["functions/ingest.ts"]);
    expect(query!.command).toEqual(["functions/query.ts"]);
    // Scaled apart, the two functions cannot share the embedded store.
    expect(ingest!.environment).toMatchObject({ VECTOR_STORE: "qdrant", OBJECT_STORE: "gateway" });
    expect(ingest!.environment.QDRANT_API_KEY).toBe(qdrant!.environment.QDRANT__SERVICE__API_KEY);
    expect(ingest!.environment.WEBHOOK_SECRET).toMatch(/^\$\{WEBHOOK_SECRET:\?/);
    // Plain HTTP inside the compose network (Qdrant serves no TLS here).
    expect(ingest!.environment.QDRANT_URL).toBe("http://qdrant:6333");
  });

  it("infra/qdrant/compose.yaml: the app runs the local server, which starts without a webhook secret", () => {
    const compose = parse(readFileSync("infra/qdrant/compose.yaml", "utf8")) as Json;
    const { app } = compose.services as Record<string, Json>;
    checkService("app", app!);
    expect(app!.environment.WEBHOOK_SECRET).toBeUndefined();
  });

  it("a function service without its secret would not start (the check above is not vacuous)", () => {
    expect(() => parseFunctionEnv({ OBJECT_STORE: "gateway" })).toThrow(/WEBHOOK_SECRET/);
  });
});
