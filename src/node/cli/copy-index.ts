/**
 * `region-search copy-index --from <store> --to <store> [--tenant t]…`: copies an index between
 * vector stores (embedded ↔ Qdrant, Qdrant → Qdrant), resumable with `--checkpoint <file>`.
 * Also runs on its own: `npx tsx src/node/cli/copy-index.ts --from … --to …`.
 *
 * Only `QDRANT_API_KEY` is read from the environment (for whichever side is Qdrant).
 */
import { Command, InvalidArgumentError } from "commander";
import { readFile, rm } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { copyIndex, type CopyCheckpoint, type CopyResult } from "../../lib/store/copy.js";
import type { VectorStore } from "../../lib/store/types.js";
import { isNotFound, writeFileAtomic } from "../fs-atomic.js";
import {
  describeSpec,
  openSource,
  openTarget,
  parseVectorStoreSpec,
  type VectorStoreSpec,
} from "../store/spec.js";
import { processIo, rootCommand, runProgram, type CliIo } from "./io.js";

interface CopyCommandOptions {
  from: VectorStoreSpec;
  to: VectorStoreSpec;
  tenant: string[];
  batchSize: number;
  checkpoint?: string;
  json?: boolean;
}

/** What a checkpoint file holds: the copy it belongs to, and how far it got. */
interface CheckpointFile {
  from: VectorStoreSpec;
  to: VectorStoreSpec;
  tenants: string[];
  checkpoint: CopyCheckpoint;
}

const spec = (value: string): VectorStoreSpec => {
  try {
    return parseVectorStoreSpec(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const positiveInt = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError("must be a positive integer");
  return n;
};

/** Adds `copy-index` to the `region-search` program. */
export function addCopyIndexCommand(program: Command, io: CliIo): void {
  program
    .command("copy-index")
    .description(
      "Copy every point of the given tenants from one vector store to another (same model pack). Safe to re-run: ids are deterministic, so nothing is duplicated.",
    )
    .requiredOption(
      "--from <store>",
      "source: embedded:<dir> (e.g. embedded:./data/vectors) or qdrant:<url>/<collection>",
      spec,
    )
    .requiredOption(
      "--to <store>",
      "target, same forms; a Qdrant collection is created with the source's dimension",
      spec,
    )
    .option(
      "-t, --tenant <tenant>",
      "tenant to copy (repeat for several; default: default)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option("--batch-size <n>", "points per page", positiveInt, 256)
    .option(
      "--checkpoint <file>",
      "resume from this file if it exists; keep it up to date while copying; removed when done",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExamples:\n  region-search copy-index --from embedded:./data/vectors --to qdrant:http://localhost:6333/regions\n  region-search copy-index --from qdrant:http://a:6333/regions --to qdrant:http://b:6333/regions -t alice -t bob --checkpoint copy.json\n",
    )
    .action(async (o: Omit<CopyCommandOptions, "tenant"> & { tenant?: string[] }) => {
      const result = await runCopy({ ...o, tenant: o.tenant ?? ["default"] }, io);
      io.out(
        o.json ? `${JSON.stringify(result, null, 2)}\n` : `${formatResult(result, o.from, o.to)}\n`,
      );
    });
}

async function runCopy(o: CopyCommandOptions, io: CliIo): Promise<CopyResult> {
  const apiKey = io.env.QDRANT_API_KEY || undefined;
  const resume = o.checkpoint ? await readCheckpoint(o.checkpoint, o) : undefined;
  const from = await openSource(o.from, apiKey);
  let to: VectorStore | undefined;
  try {
    const dim = await firstDimension(from, o.tenant);
    if (dim === null)
      return { copied: 0, perTenant: Object.fromEntries(o.tenant.map((t) => [t, 0])) };
    to = await openTarget(o.to, dim, apiKey);
    const result = await copyIndex(from, to, {
      tenants: o.tenant,
      batchSize: o.batchSize,
      ...(resume ? { resume } : {}),
      onProgress: async (p) => {
        if (o.checkpoint && p.checkpoint)
          await writeFileAtomic(
            o.checkpoint,
            JSON.stringify({
              from: o.from,
              to: o.to,
              tenants: o.tenant,
              checkpoint: p.checkpoint,
            } satisfies CheckpointFile),
          );
        if (io.isTTY) io.err(`\rcopied ${p.copied} points (tenant ${p.tenant})`);
      },
    });
    if (io.isTTY) io.err("\n");
    if (o.checkpoint) await rm(o.checkpoint, { force: true });
    return result;
  } finally {
    await to?.close?.();
    await from.close?.();
  }
}

/** The vector size of the source's first point: the dimension a new Qdrant target is created with. */
async function firstDimension(
  from: VectorStore,
  tenants: readonly string[],
): Promise<number | null> {
  for (const tenant of tenants) {
    const [first] = (await from.scan?.(tenant, { limit: 1 })) ?? [];
    if (first) return first.vector.length;
  }
  return null;
}

/** A checkpoint of this very copy, or undefined when there is none yet; one of another copy is refused. */
async function readCheckpoint(
  file: string,
  o: CopyCommandOptions,
): Promise<CopyCheckpoint | undefined> {
  let saved: CheckpointFile;
  try {
    saved = JSON.parse(await readFile(file, "utf8")) as CheckpointFile;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new Error(`cannot read checkpoint ${file}: ${(err as Error).message}`, { cause: err });
  }
  const same =
    JSON.stringify([saved.from, saved.to, saved.tenants]) ===
    JSON.stringify([o.from, o.to, o.tenant]);
  if (!same)
    throw new Error(
      `checkpoint ${file} belongs to another copy (${describeSpec(saved.from)} → ${describeSpec(saved.to)}, tenants ${saved.tenants.join(", ")}); remove it or pass another file`,
    );
  return saved.checkpoint;
}

function formatResult(r: CopyResult, from: VectorStoreSpec, to: VectorStoreSpec): string {
  const tenants = Object.entries(r.perTenant).map(([t, n]) => `  ${t}: ${n}`);
  return [
    `copied ${r.copied} points from ${describeSpec(from)} to ${describeSpec(to)}`,
    ...tenants,
  ].join("\n");
}

// Run on its own: the same command on the same root (options, help and errors match), without
// importing program.ts, which imports this file.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const standalone = (io: CliIo) => {
    const program = rootCommand(io);
    addCopyIndexCommand(program, io);
    return program;
  };
  process.exitCode = await runProgram(
    standalone,
    ["copy-index", ...process.argv.slice(2)],
    processIo(),
  );
}
