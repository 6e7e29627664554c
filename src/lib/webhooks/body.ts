/**
 * Reads a request body as text with a byte cap that holds for chunked bodies too (no
 * Content-Length to trust): the stream is counted as it arrives and reading stops at the cap.
 */
import { readCappedBody } from "../capped-body.js";
import { ApiError } from "../errors.js";

export async function readCappedText(request: Request, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(
    await readCappedBody(request, maxBytes, () => tooLarge(maxBytes)),
  );
}

const tooLarge = (maxBytes: number) =>
  new ApiError("payload_too_large", `Body exceeds ${maxBytes} bytes`);
