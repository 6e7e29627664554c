import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Writes a slice of the shapes-world test split once per run (Python generator, idempotent).
    globalSetup: ["test/setup/shapes-fixtures.ts"],
    // Model-backed tests share two CPU cores; onnxruntime sessions are heavy to run in parallel.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
