/** POST /rpc/render `{kind: "mask"|"preview", mask, image?}` → PNG (sharp cannot run in a Worker). */
import { ApiError } from "../../../lib/errors.js";
import { RENDER_RPC_PATH, RenderRequest } from "../../../lib/remote/renderer.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import { base64ToBytes } from "../../../lib/webhooks/standard-webhooks.js";
import type { FunctionApp, QueryFunctionDeps } from "../types.js";

export function registerRender(app: FunctionApp, deps: QueryFunctionDeps): void {
  app.post(RENDER_RPC_PATH, async (c) => {
    const parsed = RenderRequest.safeParse(signedJson(c.get("webhook")));
    if (!parsed.success) throw ApiError.invalid("Expected {kind, mask, image?}");
    const req = parsed.data;
    const png =
      req.kind === "mask"
        ? await deps.renderer.maskPng(req.mask)
        : await deps.renderer.previewPng(base64ToBytes(req.image), req.mask);
    return c.body(png as Uint8Array<ArrayBuffer>, 200, { "content-type": "image/png" });
  });
}
