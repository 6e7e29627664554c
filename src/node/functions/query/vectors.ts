/** POST /rpc/vectors — one vector-store operation for the gateway's `RemoteVectorStore`. */
import { validationError } from "../../../lib/errors.js";
import { VECTORS_RPC_PATH, VectorOp, runVectorOp } from "../../../lib/remote/vectors.js";
import { signedJson } from "../../../lib/webhooks/middleware.js";
import type { FunctionApp, QueryFunctionDeps } from "../types.js";

export function registerVectors(app: FunctionApp, deps: QueryFunctionDeps): void {
  app.post(VECTORS_RPC_PATH, async (c) => {
    const parsed = VectorOp.safeParse(signedJson(c.get("webhook")));
    if (!parsed.success) throw validationError(parsed.error);
    return c.json(await runVectorOp(deps.vectors, parsed.data), 200);
  });
}
