/**
 * How much of what the local full decode refuses the gateway's integrity check also refuses, and
 * whether it ever refuses what the decoder accepts, over mutated files (figures for
 * docs/gateway-intake.md). `npx tsx test/bench/integrity-agreement.ts [runs=3000] [seed=99]`.
 */
import fc from "fast-check";
import sharp from "sharp";
import { verifyImageIntegrity } from "../../src/lib/integrity/index.js";
import { verifyDecodable } from "../../src/node/imaging/index.js";
import { mutate, type Mutation } from "../support/mutations.js";

const [runs, seed] = [Number(process.argv[2] ?? 3000), Number(process.argv[3] ?? 99)];
const data = Buffer.alloc(24 * 18 * 3, 230);
for (let y = 4; y < 12; y++) data.fill(20, (y * 24 + 5) * 3, (y * 24 + 15) * 3);
const img = () => sharp(data, { raw: { width: 24, height: 18, channels: 3 } });
const named: Array<[string, Promise<Buffer>]> = [
  ["PNG", img().png().toBuffer()],
  ["JPEG", img().jpeg({ quality: 80 }).toBuffer()],
  ["WebP", img().webp({ quality: 80 }).toBuffer()],
  ["WebP", img().webp({ lossless: true }).toBuffer()],
  ["PNG", img().png({ progressive: true }).toBuffer()],
  ["JPEG", img().jpeg({ progressive: true }).toBuffer()],
];
const seeds = await Promise.all(named.map(async ([, b]) => new Uint8Array(await b)));

// No cross-format splices here: each mutated file stays attributable to its seed's format.
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant("flip" as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("splice" as const),
    at: fc.nat(),
    insert: fc.uint8Array({ minLength: 1, maxLength: 64 }),
  }),
  fc.record({
    kind: fc.constant("cut" as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 200 }),
  }),
);
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? `unexpected ${String(e)}`,
  );

const rows = new Map<
  string,
  { decoderRefused: number; alsoRefused: number; falseRejections: number }
>();
for (const s of fc.sample(
  fc.record({ seed: fc.nat(), muts: fc.array(mutation, { minLength: 1, maxLength: 4 }) }),
  { numRuns: runs, seed },
)) {
  const i = s.seed % seeds.length;
  const bytes = s.muts.reduce<Uint8Array>((b, m) => mutate(seeds, b, m), seeds[i]!);
  const [gateway, local] = [
    await outcome(verifyImageIntegrity(bytes)),
    await outcome(verifyDecodable(bytes)),
  ];
  const row = rows.get(named[i]![0]) ?? { decoderRefused: 0, alsoRefused: 0, falseRejections: 0 };
  if (local === "invalid_image") {
    row.decoderRefused++;
    if (gateway === "invalid_image") row.alsoRefused++;
  }
  if (gateway !== "ok" && local === "ok") row.falseRejections++;
  rows.set(named[i]![0], row);
}
console.log(`${runs} mutated files, fast-check seed ${seed}\n`);
console.log(
  "| format | refused by the full decode (invalid_image) | also refused by the integrity check | refused by it but accepted by the decoder |",
);
console.log("| --- | --- | --- | --- |");
for (const [format, r] of rows) {
  console.log(
    `| ${format} | ${r.decoderRefused} | ${r.alsoRefused} (${((100 * r.alsoRefused) / r.decoderRefused).toFixed(1)} %) | ${r.falseRejections} |`,
  );
}
