#!/usr/bin/env node
// Mints a gateway API key for a tenant: prints the key (shown once, give it to the client) and the
// wrangler commands that store only its SHA-256 in the API_KEYS KV namespace — in the deployed one
// (--remote: needs `wrangler login` or CLOUDFLARE_API_TOKEN) and in the local one of
// `npm run dev:serverless` (--local, its state folder) — and the local server's API_KEYS entry.
//   node infra/deploy/mint-api-key.mjs <tenant> [live|test]
import { createHash, randomInt } from "node:crypto";

const [tenant, mode = "live"] = process.argv.slice(2);
if (
  !tenant ||
  !/^(?!\.+$)[A-Za-z0-9._-]{1,128}$/.test(tenant) ||
  !["live", "test"].includes(mode)
) {
  console.error("usage: mint-api-key.mjs <tenant> [live|test]");
  process.exit(2);
}
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const key = `rs_${mode}_${Array.from({ length: 32 }, () => alphabet[randomInt(62)]).join("")}`;
const hash = createHash("sha256").update(key).digest("hex");
console.log(`key (shown once): ${key}`);
const value = JSON.stringify({ tenant });
console.log(
  `deployed gateway: npx wrangler kv key put --binding API_KEYS --remote 'apikey:${hash}' '${value}'`,
);
console.log(
  `local gateway:    npx wrangler kv key put --binding API_KEYS --local --persist-to .wrangler/dev-serverless/wrangler 'apikey:${hash}' '${value}'`,
);
console.log(
  `local server:     API_KEYS='sha256:${hash}:${tenant}'   (the hash only; append more pairs with commas)`,
);
