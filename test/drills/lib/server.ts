/**
 * The real local server (functions/local.ts) as a child process for the drills: the embedded default
 * with a dedicated DATA_DIR and port on loopback. Node runs the entry itself (`--import tsx`), not the
 * tsx CLI, so the child's pid is the server's and `kill -9` reaches it and nothing else.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface ServerOptions {
  dataDir: string;
  port: number;
  /** Server stdout/stderr are appended here (the drills' post-mortem). */
  logFile: string;
  /** Extra environment (ingest retries, concurrency, log level). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface RunningServer {
  proc: ChildProcess;
  baseUrl: string;
  /** Spawn → first `GET /healthz` 200: process start, TS load, model pack load, store open, job recovery. */
  readyMs: number;
}

/** Children still running, killed if the drill itself exits or is interrupted (no orphan servers). */
const live = new Set<ChildProcess>();
process.on("exit", () => live.forEach((p) => p.kill("SIGKILL")));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    live.forEach((p) => p.kill("SIGKILL"));
    process.exit(130);
  });
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const t0 = performance.now();
  const log = createWriteStream(options.logFile, { flags: "a" });
  const proc = spawn(process.execPath, ["--import", "tsx", "functions/local.ts"], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      DATA_DIR: options.dataDir,
      PORT: String(options.port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      API_KEYS: "",
      VECTOR_STORE: "embedded",
      // The drills measure the server, not a request budget: no local rate limit (where one exists).
      RATE_LIMIT_PER_MINUTE: "0",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(proc);
  proc.once("exit", () => live.delete(proc));
  proc.stdout?.pipe(log);
  proc.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${options.port}`;
  await waitReady(proc, baseUrl, options.readyTimeoutMs ?? 120_000);
  return { proc, baseUrl, readyMs: performance.now() - t0 };
}

async function waitReady(proc: ChildProcess, baseUrl: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error(
        `server exited during start-up (code ${proc.exitCode}, signal ${proc.signalCode})`,
      );
    try {
      const res = await fetch(`${baseUrl}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  proc.kill("SIGKILL");
  throw new Error(`server not ready after ${timeoutMs} ms`);
}

/** SIGKILL and wait until the process is gone (its port and files released). */
export async function killHard(server: RunningServer): Promise<void> {
  await stopWith(server.proc, "SIGKILL");
}

/** SIGTERM (graceful shutdown), then SIGKILL if it lingers. */
export async function stopGracefully(server: RunningServer, graceMs = 30_000): Promise<void> {
  const timer = setTimeout(() => server.proc.kill("SIGKILL"), graceMs);
  await stopWith(server.proc, "SIGTERM");
  clearTimeout(timer);
}

function stopWith(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once("exit", () => resolve());
    proc.kill(signal);
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
