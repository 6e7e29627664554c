/** Shapes-world scenes for the drills' uploads and queries, rendered once by the Python generator. */
import { readFileSync } from "node:fs";
import { writeShapesSplit } from "../../setup/shapes-fixtures.js";
import { readShapesSplit } from "../../support/shapes.js";

export interface DrillScenes {
  /** PNG bytes, one per scene. */
  images: Uint8Array<ArrayBuffer>[];
  /** Every object caption and referring expression of the scenes, deduplicated. */
  captions: string[];
}

export function prepareScenes(dir: string, count: number): DrillScenes {
  writeShapesSplit(dir, count);
  const scenes = readShapesSplit(dir, count);
  const captions = new Set<string>();
  for (const s of scenes) {
    for (const o of s.objects) captions.add(o.caption);
    for (const e of s.expressions) captions.add(e.text);
  }
  return {
    images: scenes.map((s) => new Uint8Array(readFileSync(s.png))),
    captions: [...captions],
  };
}
