// Lint enforces the three runtime zones of DESIGN.md §2:
//   src/lib  — anywhere (Workers, Node, browser): may import only src/lib, no Node built-ins
//   src/node — Node only: src/lib and src/node
//   src/edge — Workers only: src/lib and src/edge
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const nodeBuiltins = [
  "fs",
  "path",
  "os",
  "crypto",
  "child_process",
  "worker_threads",
  "stream",
  "http",
  "https",
  "net",
  "url",
  "util",
  "zlib",
  "events",
  "buffer",
  "dns",
  "tls",
  "readline",
  "perf_hooks",
];
const nodeOnlyPackages = [
  "sharp",
  "onnxruntime-node",
  "@lancedb/lancedb",
  "apache-arrow",
  "pino",
  "@hono/node-server",
];
const restrictedBuiltins = [
  { group: ["node:*"], message: "src/lib runs anywhere: no Node built-ins (use Web APIs)." },
  ...nodeBuiltins.map((name) => ({
    group: [name, `${name}/*`],
    message: "src/lib runs anywhere: no Node built-ins.",
  })),
];

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      "data/",
      "results/",
      ".wrangler/",
      "dist/",
      "infra/",
      "models/",
      "src/generated/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    files: ["src/lib/**/*.ts", "src/lib/**/*.js"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...restrictedBuiltins,
            {
              group: ["**/node/**", "**/edge/**", "**/functions/**"],
              message: "src/lib may import only src/lib.",
            },
            ...nodeOnlyPackages.map((name) => ({
              group: [name, `${name}/*`],
              message: `src/lib runs anywhere: ${name} is Node-only.`,
            })),
          ],
        },
      ],
    },
  },
  {
    // The search page's browser modules (and the RLE decoder they share with the server) are plain
    // JavaScript checked by tsc (`// @ts-check`), which reports undefined names; ESLint has no list of
    // browser globals here.
    files: ["src/lib/**/*.js"],
    rules: { "no-undef": "off" },
  },
  {
    files: ["src/node/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["**/edge/**", "**/functions/**"],
              message: "src/node may import only src/lib and src/node.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/edge/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ...restrictedBuiltins,
            {
              group: ["**/node/**", "**/functions/**"],
              message: "src/edge may import only src/lib and src/edge.",
            },
            ...nodeOnlyPackages.map((name) => ({
              group: [name, `${name}/*`],
              message: `src/edge runs on Workers: ${name} is Node-only.`,
            })),
          ],
        },
      ],
    },
  },
);
