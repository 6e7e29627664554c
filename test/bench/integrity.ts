/**
 * How long the gateway's upload integrity check (src/lib/integrity) takes on large images, next to
 * the local server's full decode (`verifyDecodable`), and how much RSS it adds at its peak.
 * Prints a Markdown table; run with `npx tsx test/bench/integrity.ts` (figures, not assertions).
 */
import sharp from "sharp";
import { verifyImageIntegrity } from "../../src/lib/integrity/index.js";
import { verifyDecodable } from "../../src/node/imaging/index.js";
import { blackPng } from "../support/png.js";
import { peakRssGrowth } from "../support/rss.js";

const [W, H] = [6400, 6250]; // 40 MP, the default MAX_PIXELS

async function noise(format: "jpeg" | "webp" | "png"): Promise<Uint8Array> {
  const raw = Buffer.alloc(W * H * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24;
  const img = sharp(raw, { raw: { width: W, height: H, channels: 3 } });
  return new Uint8Array(
    await (
      format === "jpeg"
        ? img.jpeg({ quality: 90 })
        : format === "webp"
          ? img.webp({ quality: 80 })
          : img.png({ compressionLevel: 1 })
    ).toBuffer(),
  );
}

async function measure(check: () => Promise<void>): Promise<{ ms: number; peakMiB: number }> {
  const start = performance.now();
  const growth = await peakRssGrowth(check);
  return { ms: performance.now() - start, peakMiB: growth / 2 ** 20 };
}

const inputs: Array<[string, () => Promise<Uint8Array>]> = [
  ["PNG, black (120 MB of rows)", async () => new Uint8Array(await blackPng(W, H))],
  ["PNG, patterned, zlib level 1", () => noise("png")],
  ["JPEG q90, patterned", () => noise("jpeg")],
  ["WebP q80, patterned", () => noise("webp")],
];

console.log(
  `| ${W}×${H} input | bytes | integrity check ms | its peak RSS growth MiB | full decode (sharp) ms |`,
);
console.log("| --- | --- | --- | --- | --- |");
for (const [name, make] of inputs) {
  const bytes = await make();
  const integrity = await measure(() => verifyImageIntegrity(bytes));
  const decode = await measure(() => verifyDecodable(bytes, { maxUploadBytes: Infinity }));
  console.log(
    `| ${name} | ${bytes.length} | ${integrity.ms.toFixed(0)} | ${integrity.peakMiB.toFixed(1)} | ${decode.ms.toFixed(0)} |`,
  );
}
