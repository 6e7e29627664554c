/**
 * Text embedding over signed HTTP (gateway → query function): `POST /rpc/embed {text}` →
 * `{pack, vector}`. The pack name is configuration of the gateway (it must name the pack the
 * functions load); a mismatch is refused here rather than comparing vectors of different models.
 */
import { z } from "zod";
import { ApiError } from "../errors.js";
import type { TextEmbedder } from "../services.js";
import type { SignedClient } from "../webhooks/client.js";

export const EMBED_RPC_PATH = "/rpc/embed";
export const EmbedRequest = z.object({ text: z.string().min(1).max(10_000) });

export class RemoteTextEmbedder implements TextEmbedder {
  constructor(
    private readonly client: SignedClient,
    readonly pack: string,
  ) {}

  async embedText(text: string): Promise<Float32Array> {
    const res = await this.client.postJson<{ pack: string; vector: number[] }>(EMBED_RPC_PATH, {
      text,
    });
    if (res.pack !== this.pack) {
      throw new ApiError(
        "unavailable",
        `Query function serves model pack ${res.pack}, the gateway expects ${this.pack}`,
      );
    }
    return Float32Array.from(res.vector);
  }
}
