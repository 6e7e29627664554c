/**
 * Child processes of the dev stack, each in its own process group: `wrangler dev` starts workerd
 * under it, and stopping must reach every descendant, not only the direct child.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";

export interface Child {
  name: string;
  proc: ChildProcess;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

export function startChild(
  name: string,
  command: string,
  args: readonly string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; onLine: (name: string, line: string) => void },
): Child {
  const proc = spawn(command, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // its own process group: stop() signals the group
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (stream) createInterface({ input: stream }).on("line", (l) => options.onLine(name, l));
  }
  const exited = new Promise<number | string>((resolve) => {
    proc.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown"));
    proc.once("error", (err) => resolve(`spawn error: ${err.message}`));
  });
  return { name, proc, exited };
}

/** SIGTERM to the child's process group, SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopChild(child: Child, graceMs = 10_000): Promise<void> {
  const pid = child.proc.pid;
  if (pid === undefined || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  signalGroup("SIGTERM");
  const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
  // Descendants (workerd under wrangler) may outlive their parent for a moment: make sure.
  signalGroup("SIGKILL");
}

/** Polls `url` until `ok(res)` or the deadline; throws naming the last answer. */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  ok: (res: Response) => boolean | Promise<boolean> = (r) => r.ok,
  abort?: Promise<unknown>,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "no answer";
  let aborted = false;
  void abort?.then(() => (aborted = true));
  while (Date.now() < until && !aborted) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (await ok(res)) return;
      last = `${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(
    `${url} not ready (${aborted ? "its process exited" : "timed out"}; last: ${last})`,
  );
}
