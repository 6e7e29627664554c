/** Reading the shapes-world test split written by the Python generator (PNG + JSON per scene). */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import type { CocoRle } from "../../src/lib/masks/types.js";

export interface ShapesObject {
  index: number;
  shape: string;
  color: string;
  size: string;
  pattern: string;
  caption: string;
  caption_unique: boolean;
  bbox: [number, number, number, number];
  area: number;
  mask: CocoRle;
}

export interface ShapesScene {
  seed: number;
  width: number;
  height: number;
  objects: ShapesObject[];
  expressions: { text: string; target: number; kind: "spatial" | "comparative" | "distractor" }[];
  png: string;
}

/** Scenes of a written split, ordered by seed. */
export function readShapesSplit(dir: string, limit = Number.MAX_SAFE_INTEGER): ShapesScene[] {
  return readdirSync(dir)
    .filter((f) => /^scene-\d+\.json$/.test(f))
    .sort()
    .slice(0, limit)
    .map((f) => {
      const scene = JSON.parse(readFileSync(path.join(dir, f), "utf8")) as Omit<ShapesScene, "png">;
      return { ...scene, png: path.join(dir, f.replace(/\.json$/, ".png")) };
    });
}

/** The four attributes of an object as one key: objects with equal keys answer the same caption. */
export const attributesOf = (
  o: Pick<ShapesObject, "size" | "pattern" | "color" | "shape">,
): string => `${o.size}|${o.pattern}|${o.color}|${o.shape}`;
