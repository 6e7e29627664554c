/**
 * PNG rendering over signed HTTP (gateway → query function): a Worker cannot run sharp, so mask and
 * preview PNGs are drawn by the query function. `POST /rpc/render {kind, mask, image?}` → PNG bytes.
 */
import { z } from "zod";
import type { CocoRle } from "../masks/types.js";
import type { Renderer } from "../services.js";
import type { SignedClient } from "../webhooks/client.js";
import { bytesToBase64 } from "../webhooks/standard-webhooks.js";

export const RENDER_RPC_PATH = "/rpc/render";

const Rle = z.object({
  size: z.tuple([z.number().int().min(1), z.number().int().min(1)]),
  counts: z.string(),
});
export const RenderRequest = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("mask"), mask: Rle }),
  z.object({ kind: z.literal("preview"), mask: Rle, image: z.string() }),
]);

export class RemoteRenderer implements Renderer {
  constructor(private readonly client: SignedClient) {}

  maskPng(mask: CocoRle): Promise<Uint8Array> {
    return this.client.postBytes(RENDER_RPC_PATH, { kind: "mask", mask });
  }

  previewPng(image: Uint8Array, mask: CocoRle): Promise<Uint8Array> {
    return this.client.postBytes(RENDER_RPC_PATH, {
      kind: "preview",
      mask,
      image: bytesToBase64(image),
    });
  }
}
