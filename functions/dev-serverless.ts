/**
 * `npm run dev:serverless`: the serverless stack on this machine, in one command (src/node/functions/
 * dev-stack/stack.ts): the gateway Worker under `wrangler dev` and both Node functions, with a local
 * API key. Prints the key and a first upload and search; Ctrl-C stops everything.
 *   npm run dev:serverless -- [--port 8787] [--ingest-port 8788] [--query-port 8789]
 *                             [--state-dir .wrangler/dev-serverless] [--vars-file .dev.vars]
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { startDevStack } from "../src/node/functions/dev-stack/stack.js";

const port = z.coerce.number().int().min(1).max(65535);
const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    "ingest-port": { type: "string", default: "8788" },
    "query-port": { type: "string", default: "8789" },
    "state-dir": { type: "string", default: ".wrangler/dev-serverless" },
    "vars-file": { type: "string", default: ".dev.vars" },
    "model-pack": { type: "string", default: process.env.MODEL_PACK ?? "models/shapes-tiny" },
    tenant: { type: "string", default: "local" },
  },
});

async function main(): Promise<void> {
  const started = Date.now();
  const stack = await startDevStack({
    root: process.cwd(),
    stateDir: path.resolve(values["state-dir"]),
    varsFile: path.resolve(values["vars-file"]),
    gatewayPort: port.parse(values.port),
    ingestPort: port.parse(values["ingest-port"]),
    queryPort: port.parse(values["query-port"]),
    modelPack: values["model-pack"],
    tenant: values.tenant,
    onLine: (name, line) => console.log(`[${name}] ${line}`),
  });
  const url = stack.gatewayUrl;
  console.log(
    [
      "",
      `serverless stack ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      `  gateway   ${url}  (search page: ${url}/, API reference: ${url}/docs)`,
      `  API key   ${stack.apiKey}  (tenant "${stack.tenant}", in the local KV)`,
      "  try (a scene of the shapes world the bundled pack knows, as in README.md):",
      "    (cd infra/models && /usr/bin/python3 -m shapesworld render --seed 7 --out /tmp/scene-7.png)",
      `    curl -s -H "authorization: Bearer ${stack.apiKey}" -H "content-type: image/png" \\`,
      `      --data-binary @/tmp/scene-7.png "${url}/v1/images?wait=true"`,
      `    curl -s -H "authorization: Bearer ${stack.apiKey}" -H "content-type: application/json" \\`,
      `      -d '{"query":"a large dotted red square"}' ${url}/v1/search`,
      "  Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));
  const exited = await stack.firstExit;
  if (!stopping) {
    console.error(`${exited.name} exited (${exited.code}): stopping the stack`);
    await stop(1);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
