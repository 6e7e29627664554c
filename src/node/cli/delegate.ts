/**
 * Commands that run another entry file of the project (`serve` → functions/local.ts, `eval` and
 * `bench` → test/bench/*.ts) in a child Node process through tsx, with the terminal and signals
 * passed through. The child's exit code becomes the CLI's.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export const ENTRIES = {
  serve: "functions/local.ts",
  eval: "test/bench/eval.ts",
  bench: "test/bench/bench.ts",
} as const;

/** tsx's loader by absolute URL: a bare `--import tsx` would resolve from the cwd, maybe outside the project. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;

export async function runEntry(
  entry: keyof typeof ENTRIES,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string },
): Promise<number> {
  const file = path.join(PROJECT_ROOT, ENTRIES[entry]);
  if (!existsSync(file)) throw new Error(`${ENTRIES[entry]} is not in this checkout`);
  const child = spawn(process.execPath, ["--import", TSX_LOADER, file, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: "inherit",
  });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 + 2 : 1)));
    });
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}
