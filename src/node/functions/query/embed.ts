/** POST /rpc/embed `{text}` → `{pack, vector}`: the Alpha-CLIP text vector of a query. */
import { ApiError } from "../../../lib/errors.js";
import { EMBED_RPC_PATH, EmbedRequest } from "../../../lib/remote/text.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import type { FunctionApp, QueryFunctionDeps } from "../types.js";

export function registerEmbed(app: FunctionApp, deps: QueryFunctionDeps): void {
  app.post(EMBED_RPC_PATH, async (c) => {
    const parsed = EmbedRequest.safeParse(signedJson(c.get("webhook")));
    if (!parsed.success) throw ApiError.invalid("Expected {text}");
    const vector = await deps.text.embedText(parsed.data.text);
    return c.json({ pack: deps.text.pack, vector: Array.from(vector) }, 200);
  });
}
