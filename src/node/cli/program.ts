/**
 * The `region-search` command line: commands, options and help text (commander). Everything the
 * commands need from outside — environment, output streams, fetch — comes in through `CliIo`
 * (io.ts), so tests run the real program in-process.
 */
import { Command, InvalidArgumentError, Option } from "commander";
import path from "node:path";
import { z } from "zod";
import { parseEnvWith } from "../../lib/env-fields.js";
import { parseEnv } from "../server/env.js";
import { ApiClient } from "./client.js";
import { addCopyIndexCommand } from "./copy-index.js";
import { ENTRIES, PROJECT_ROOT, runEntry } from "./delegate.js";
import { EMBEDDED_URL, openEmbedded } from "./embedded.js";
import { expandInputs } from "./files.js";
import { formatSummary, ingestFiles } from "./ingest.js";
import { CliError, rootCommand, runProgram, type CliIo } from "./io.js";
import { metadataFlags } from "./metadata.js";
import { formatPackInfo, packInfo } from "./pack-info.js";
import { progressBar } from "./progress.js";
import { addReindexCommand } from "./reindex.js";
import { searchCommand } from "./search.js";

const cliEnvSchema = z.object({
  REGION_SEARCH_URL: z.url().default("http://localhost:8080"),
  REGION_SEARCH_API_KEY: z.string().min(1).optional(),
});

interface GlobalOptions {
  url: string;
  apiKey?: string;
  embedded?: boolean;
}

const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};

/** A client for the global options: HTTP to --url, or the embedded app in this process. */
async function withClient<T>(
  io: CliIo,
  opts: GlobalOptions,
  fn: (client: ApiClient) => Promise<T>,
): Promise<T> {
  if (!opts.embedded) {
    const base = opts.url.replace(/\/+$/, "");
    try {
      return await fn(new ApiClient(io.fetch ?? fetch, base, opts.apiKey));
    } catch (err) {
      throw unreachable(err, base) ?? err;
    }
  }
  const embedded = await openEmbedded(parseEnv(io.env));
  try {
    return await fn(new ApiClient(embedded.fetch, EMBEDDED_URL, opts.apiKey));
  } finally {
    await embedded.close();
  }
}

function buildProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const env = parseEnvWith(cliEnvSchema, io.env);
  const program = rootCommand(io)
    .description(
      "Search inside your images by text: upload images, then find regions (with masks) by what they show.",
    )
    // Defaults from the environment the entry read (not commander's .env(), which reads process.env).
    .addOption(
      new Option("--url <url>", "API server to talk to (env REGION_SEARCH_URL)").default(
        env.REGION_SEARCH_URL,
      ),
    )
    .addOption(
      new Option(
        "--api-key <key>",
        "API key, sent as `Authorization: Bearer` (env REGION_SEARCH_API_KEY)",
      ).default(env.REGION_SEARCH_API_KEY, "none"),
    )
    .option(
      "--embedded",
      "work on the embedded store in this process (DATA_DIR, MODEL_PACK as for `npm start`) instead of a server",
    );
  const globals = () => program.opts<GlobalOptions>();

  program
    .command("ingest")
    .description(
      "Index image files: uploads them, waits until each is indexed, prints a summary. Re-running skips images already indexed (same bytes).",
    )
    .argument(
      "<inputs...>",
      "image files, folders (searched recursively for .png/.jpg/.jpeg/.webp) or quoted globs like 'photos/**/*.jpg'",
    )
    .option("-c, --concurrency <n>", "images in flight at once", positiveInt("--concurrency"), 4)
    .option(
      "--timeout <seconds>",
      "give up waiting for one image after this long",
      positiveInt("--timeout"),
      600,
    )
    .option("--force", "upload even images that are already indexed")
    .option("--metadata <json>", 'metadata for every file, a JSON object: \'{"album":"2024"}\'')
    .option(
      "--metadata-from <file>",
      "a JSON object of per-file metadata keyed by file path or base name (overrides --metadata's keys)",
    )
    .option("--json", "print the summary and per-file outcomes as JSON")
    .option("--no-progress", "no progress bar")
    .addHelpText(
      "after",
      "\nExamples:\n  region-search ingest ~/Pictures/holiday\n  region-search ingest 'scans/**/*.png' --concurrency 8\n  region-search ingest shop/ --metadata '{\"shop\":\"berlin\"}' --metadata-from skus.json\n",
    )
    .action(
      async (
        inputs: string[],
        o: {
          concurrency: number;
          timeout: number;
          force?: boolean;
          json?: boolean;
          progress: boolean;
          metadata?: string;
          metadataFrom?: string;
        },
      ) => {
        const metadataFor = await metadataFlags(o);
        const { files, missing } = await expandInputs(inputs);
        for (const m of missing) io.err(`warning: nothing matches ${m}\n`);
        if (files.length === 0) throw new CliError("no image files found");
        const progress = o.progress && io.isTTY ? progressBar() : undefined;
        const { summary, outcomes } = await withClient(io, globals(), (client) =>
          ingestFiles(client, files, {
            concurrency: o.concurrency,
            timeoutMs: o.timeout * 1000,
            force: !!o.force,
            ...(progress ? { progress } : {}),
            ...(metadataFor ? { metadataFor } : {}),
          }),
        );
        io.out(
          o.json
            ? `${JSON.stringify({ summary, outcomes }, null, 2)}\n`
            : `${formatSummary(summary)}\n`,
        );
        if (summary.failed > 0) setExitCode(1);
      },
    );

  program
    .command("search")
    .description("Search your images' regions by text and print the best matches.")
    .argument("<text>", 'what to look for, e.g. "a small striped red star"')
    .option("-l, --limit <n>", "results to return", positiveInt("--limit"), 10)
    .option("-g, --group", "at most one result (the best region) per image")
    .option(
      "--min-area <pixels>",
      "only regions of at least this many pixels",
      positiveInt("--min-area"),
    )
    .option("--json", "print the API's JSON (with masks as COCO RLE)")
    .action(
      async (
        text: string,
        o: { limit: number; group?: boolean; minArea?: number; json?: boolean },
      ) => {
        const options = {
          limit: o.limit,
          json: !!o.json,
          ...(o.group ? { groupByImage: true } : {}),
          ...(o.minArea ? { minArea: o.minArea } : {}),
        };
        io.out(
          `${await withClient(io, globals(), (client) => searchCommand(client, text, options))}\n`,
        );
      },
    );

  program
    .command("serve")
    .description(
      "Start the local server (`npm start`): the API, the search page at / and the API reference at /docs.",
    )
    .option("-p, --port <port>", "port (env PORT, default 8080)")
    .option("--data-dir <dir>", "where images and vectors are kept (env DATA_DIR, default ./data)")
    .option("--pack <dir>", "model pack folder (env MODEL_PACK, default the bundled shapes-tiny)")
    .action(async (o: { port?: string; dataDir?: string; pack?: string }) => {
      const childEnv = {
        ...io.env,
        ...(o.port ? { PORT: o.port } : {}),
        ...(o.dataDir ? { DATA_DIR: path.resolve(o.dataDir) } : {}),
        MODEL_PACK: path.resolve(
          o.pack ?? io.env.MODEL_PACK ?? path.join(PROJECT_ROOT, "models/shapes-tiny"),
        ),
      };
      setExitCode(await runEntry("serve", [], { env: childEnv, cwd: process.cwd() }));
    });

  for (const [name, what] of [
    ["eval", "the quality benchmark (`npm run eval`)"],
    ["bench", "the speed benchmark (`npm run bench`)"],
  ] as const) {
    program
      .command(name)
      .description(`Run ${what}; arguments after the command go to ${ENTRIES[name]}.`)
      .argument("[args...]", `passed to ${ENTRIES[name]}`)
      .allowUnknownOption()
      .helpOption("--cli-help", "show this help")
      .action(async (args: string[]) =>
        setExitCode(await runEntry(name, args, { env: io.env, cwd: PROJECT_ROOT })),
      );
  }

  const pack = program.command("pack").description("Model packs (manifest + ONNX + tokenizer).");
  pack
    .command("info")
    .description(
      "Load and validate a model pack (files, sha256, every model's tensors) and describe it.",
    )
    .argument("<dir>", "the pack folder, e.g. models/shapes-tiny")
    .option("--json", "print as JSON")
    .action(async (dir: string, o: { json?: boolean }) => {
      const info = await packInfo(dir);
      io.out(o.json ? `${JSON.stringify(info, null, 2)}\n` : `${formatPackInfo(info)}\n`);
    });

  addCopyIndexCommand(program, io);
  addReindexCommand(program, io);
  return program;
}

/** Runs the CLI on `argv` (without node and script); resolves to the exit code. */
export function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  return runProgram(buildProgram, argv, io);
}

/** fetch's network failure (no answer at all) → a CliError naming the URL, with what to do. */
function unreachable(err: unknown, url: string): CliError | null {
  if (!(err instanceof TypeError) || !(err.cause instanceof Error)) return null;
  const why = (err.cause as NodeJS.ErrnoException).code ?? err.cause.message;
  const hint =
    why === "ECONNREFUSED"
      ? ": no server there (start one with `region-search serve`, or use --embedded)"
      : "";
  return new CliError(`cannot reach ${url} (${why})${hint}`);
}
