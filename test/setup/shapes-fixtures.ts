/**
 * Test fixtures from the shapes world: the one scene generator is Python (infra/models/shapesworld),
 * so the TypeScript tests ask it for a small slice of the test split once per run. Idempotent: the
 * generator skips scenes already on disk.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SHAPES_FIXTURE_DIR = path.join(root, "test/fixtures/generated/shapes-test");
export const SHAPES_FIXTURE_COUNT = 24;

/** Debian's python (numpy + PIL); override with PYTHON for other layouts. */
export function pythonBin(): string {
  return process.env.PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
}

/** `robust`: the robustness subset (same seeds, objects turned and partly hidden). */
export function writeShapesSplit(
  outDir: string,
  count: number,
  split = "test",
  options: { robust?: boolean } = {},
): void {
  execFileSync(
    pythonBin(),
    [
      "-m",
      "shapesworld",
      "write-split",
      "--split",
      split,
      "--count",
      String(count),
      "--out",
      outDir,
      ...(options.robust ? ["--robust"] : []),
    ],
    { cwd: path.join(root, "infra/models"), stdio: ["ignore", "ignore", "inherit"] },
  );
}

export default function setup(): void {
  writeShapesSplit(SHAPES_FIXTURE_DIR, SHAPES_FIXTURE_COUNT);
}
