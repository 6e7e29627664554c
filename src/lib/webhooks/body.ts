/**
 * Reads a request body as text with a byte cap that holds for chunked bodies too (no
 * Content-Length to trust): the stream is counted as it arrives and reading stops at the cap.
 */
import { ApiError } from "../errors.js";

export async function readCappedText(request: Request, maxBytes: number): Promise<string> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}

const tooLarge = (maxBytes: number) => new ApiError("payload_too_large", `Body exceeds ${maxBytes} bytes`);
