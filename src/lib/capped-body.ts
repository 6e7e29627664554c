/**
 * Reads a request's or response's body with a byte cap that holds without a Content-Length to trust
 * (chunked bodies, lying servers): a declared length over the cap is refused before reading, and the
 * stream is counted as it arrives and cancelled the moment the cap is passed.
 */
interface HasBody {
  headers: Headers;
  body: ReadableStream<Uint8Array> | null;
}

export async function readCappedBody(
  message: HasBody,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  if (Number(message.headers.get("content-length") ?? "0") > maxBytes) {
    await message.body?.cancel();
    throw tooLarge();
  }
  if (!message.body) return new Uint8Array(0);
  const reader = message.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}
