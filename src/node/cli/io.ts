/**
 * What every command of the `region-search` program gets from outside — environment, output
 * streams, fetch — and how a program runs on argv. Kept apart from program.ts, which adds the
 * commands: the command files (copy-index.ts, reindex.ts) import this, never the program that
 * imports them.
 */
import { Command, CommanderError } from "commander";
import { ApiCallError, type FetchLike } from "./client.js";

export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (the progress bar draws only there). */
  isTTY: boolean;
  fetch?: FetchLike;
}

/** An expected failure: printed as one line, exit code 1, no stack. */
export class CliError extends Error {}

/** This process's environment and streams; the environment is read here, once. */
export function processIo(): CliIo {
  return {
    env: { ...process.env },
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    isTTY: !!process.stderr.isTTY,
  };
}

/** The `region-search` root command, writing to `io` and throwing instead of exiting (runProgram maps that to a code). */
export function rootCommand(io: CliIo): Command {
  return new Command("region-search")
    .showHelpAfterError()
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .exitOverride();
}

export type ProgramBuilder = (io: CliIo, setExitCode: (code: number) => void) => Command;

/** Runs a program on `argv` (without node and script); resolves to the exit code. */
export async function runProgram(
  build: ProgramBuilder,
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  let exitCode = 0;
  try {
    await build(io, (c) => (exitCode = c)).parseAsync([...argv], { from: "user" });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    io.err(`region-search: ${describe(err)}\n`);
    return 1;
  }
}

function describe(err: unknown): string {
  if (err instanceof ApiCallError) return `${err.status} ${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}
