/**
 * `npm run dev:serverless`: the whole serverless stack on this machine — the gateway Worker under
 * `wrangler dev` (workerd with local R2, Queues, KV and rate limiter, state under `stateDir`) and both
 * Node functions in one process (functions/ingest-query.ts: one embedded store that both see), on
 * distinct ports and with one secret. `.dev.vars` is written from `.dev.vars.example`, and a local API
 * key is minted into the local KV (`wrangler kv key put --local`, the same command a deployment runs
 * with `--remote`) and kept in `stateDir/api-key.json` for the next run.
 */
import { createHash, randomInt } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { startChild, stopChild, waitForHttp, type Child } from "./processes.js";
import { writeDevVars } from "./dev-vars.js";

const run = promisify(execFile);

export interface DevStackOptions {
  /** The repository root (wrangler.toml, .dev.vars.example, node_modules). */
  root: string;
  stateDir: string;
  varsFile: string;
  gatewayPort: number;
  ingestPort: number;
  queryPort: number;
  modelPack: string;
  tenant: string;
  /** Extra environment of the functions (e.g. LOG_LEVEL). */
  functionEnv?: Record<string, string>;
  /** Every line the children print, prefixed by their name. */
  onLine: (name: string, line: string) => void;
  readyTimeoutMs?: number;
}

export interface DevStack {
  gatewayUrl: string;
  apiKey: string;
  tenant: string;
  children: readonly Child[];
  /** Resolves when any child exits on its own. */
  firstExit: Promise<{ name: string; code: number | string }>;
  stop(): Promise<void>;
}

export async function startDevStack(o: DevStackOptions): Promise<DevStack> {
  await mkdir(o.stateDir, { recursive: true });
  const persist = path.join(o.stateDir, "wrangler");
  const modelPackId = await packId(path.resolve(o.root, o.modelPack));
  const vars = await writeDevVars(o.varsFile, path.join(o.root, ".dev.vars.example"), {
    ingestPort: o.ingestPort,
    queryPort: o.queryPort,
    modelPackId,
  });
  const apiKey = await localApiKey(o, persist);
  const gatewayUrl = `http://127.0.0.1:${o.gatewayPort}`;
  const childEnv = { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" };
  const functions = startChild(
    "functions",
    process.execPath,
    ["--import", "tsx", "functions/ingest-query.ts"],
    {
      cwd: o.root,
      onLine: o.onLine,
      env: {
        ...childEnv,
        HOST: "127.0.0.1",
        PORT: String(o.ingestPort),
        QUERY_PORT: String(o.queryPort),
        WEBHOOK_SECRET: vars.get("WEBHOOK_SECRET")!,
        OBJECT_STORE: "gateway",
        GATEWAY_URL: gatewayUrl,
        VECTOR_STORE: "embedded",
        DATA_DIR: path.join(o.stateDir, "functions"),
        MODEL_PACK: o.modelPack,
        ...o.functionEnv,
      },
    },
  );
  const gateway = startChild(
    "gateway",
    path.join(o.root, "node_modules/.bin/wrangler"),
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(o.gatewayPort),
      "--persist-to",
      persist,
      "--env-file",
      o.varsFile,
      "--show-interactive-dev-session=false",
    ],
    { cwd: o.root, onLine: o.onLine, env: childEnv },
  );
  const children = [functions, gateway];
  const firstExit = Promise.race(
    children.map((c) => c.exited.then((code) => ({ name: c.name, code }))),
  );
  const stop = async () => {
    await Promise.all(children.map((c) => stopChild(c)));
  };
  try {
    const timeout = o.readyTimeoutMs ?? 180_000;
    await Promise.all([
      waitForHttp(`http://127.0.0.1:${o.ingestPort}/healthz`, timeout, undefined, firstExit),
      // 200 only once the query function answers the gateway's store check.
      waitForHttp(`${gatewayUrl}/healthz`, timeout, undefined, firstExit),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { gatewayUrl, apiKey, tenant: o.tenant, children, firstExit, stop };
}

/** `name@version` of the pack's manifest: the gateway's MODEL_PACK_ID must name the functions' pack. */
async function packId(packDir: string): Promise<string> {
  const manifest = JSON.parse(await readFile(path.join(packDir, "manifest.json"), "utf8")) as {
    name: string;
    version: string;
  };
  return `${manifest.name}@${manifest.version}`;
}

const BASE62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The key kept from an earlier run, or a fresh `rs_test_` key stored (hashed) in the local KV. */
async function localApiKey(o: DevStackOptions, persist: string): Promise<string> {
  const file = path.join(o.stateDir, "api-key.json");
  const kept = await readFile(file, "utf8")
    .then((t) => JSON.parse(t) as { key: string; tenant: string })
    .catch(() => null);
  if (kept?.tenant === o.tenant) return kept.key;
  const key = `rs_test_${Array.from({ length: 32 }, () => BASE62[randomInt(62)]).join("")}`;
  const hash = createHash("sha256").update(key).digest("hex");
  await run(
    path.join(o.root, "node_modules/.bin/wrangler"),
    [
      "kv",
      "key",
      "put",
      "--local",
      "--persist-to",
      persist,
      "--binding",
      "API_KEYS",
      `apikey:${hash}`,
      JSON.stringify({ tenant: o.tenant }),
    ],
    { cwd: o.root, env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  await writeFile(file, JSON.stringify({ key, tenant: o.tenant }), { mode: 0o600 });
  return key;
}
