/**
 * Mutations of valid image files for property-based fuzzing: bit flips, truncations, insertions, cut
 * runs and cross-format splices (the head of one file over the tail of another).
 */
import fc from "fast-check";

export type Mutation =
  | { kind: "flip"; at: number; bit: number }
  | { kind: "truncate"; at: number }
  | { kind: "splice"; at: number; insert: Uint8Array }
  | { kind: "cut"; at: number; length: number }
  | { kind: "cross"; other: number; at: number };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
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
  fc.record({ kind: fc.constant("cross" as const), other: fc.nat(), at: fc.nat() }),
);

const concat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
};

/** Applies one mutation; `seeds` are the files a cross splice takes its tail from. */
export function mutate(seeds: readonly Uint8Array[], bytes: Uint8Array, m: Mutation): Uint8Array {
  const at = bytes.length === 0 ? 0 : m.at % bytes.length;
  switch (m.kind) {
    case "flip": {
      const out = bytes.slice();
      if (out.length > 0) out[at]! ^= 1 << m.bit;
      return out;
    }
    case "truncate":
      return bytes.subarray(0, at);
    case "splice":
      return concat(bytes.subarray(0, at), m.insert, bytes.subarray(at));
    case "cut":
      return concat(bytes.subarray(0, at), bytes.subarray(at + m.length));
    case "cross": {
      const other = seeds[m.other % seeds.length]!;
      return concat(bytes.subarray(0, at), other.subarray(Math.min(at, other.length)));
    }
  }
}

/** A seed file with 1–`max` mutations applied. */
export const mutatedImage = (seeds: readonly Uint8Array[], max = 4): fc.Arbitrary<Uint8Array> =>
  fc
    .record({ seed: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: max }) })
    .map(({ seed, mutations }) =>
      mutations.reduce((b, m) => mutate(seeds, b, m), seeds[seed % seeds.length]!),
    );
