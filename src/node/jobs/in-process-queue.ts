/**
 * The embedded default's job queue: in-process, bounded concurrency (default 1 — the models already
 * use every CPU core), retries with exponential backoff, one pending job per image.
 *
 * Durability comes from the catalog, not from this queue: a record is written `queued` before its job
 * is enqueued, and `recover()` at start-up re-enqueues every record left `queued` or `processing`, so
 * nothing acknowledged is lost across restarts. The dead-letter state is the catalog's `failed`
 * status (listable with `deadLetters`).
 */
import type { IngestAttempt, IngestOutcome } from "../../lib/ingest.js";
import type { ImageCatalog, ImageRecord, IngestJob, JobQueue } from "../../lib/services.js";

export type JobHandler = (job: IngestJob, attempt: IngestAttempt) => Promise<IngestOutcome>;

export interface JobEvent {
  job: IngestJob;
  attempt: number;
  outcome: IngestOutcome;
  ms: number;
  /** Delay before the next attempt, when one is scheduled. */
  retryInMs?: number;
}

export interface JobQueueOptions {
  handler: JobHandler;
  concurrency?: number;
  /** Attempts per job, the first included. */
  maxAttempts?: number;
  /** Delay before the 2nd attempt; doubled for each further one. */
  backoffMs?: number;
  maxBackoffMs?: number;
  onEvent?: (event: JobEvent) => void;
}

interface Entry {
  job: IngestJob;
  attempts: number;
  state: "waiting" | "running" | "backoff";
  /** A new enqueue arrived while running: run again from attempt 1 (the bytes may have changed). */
  rerun: boolean;
  timer?: NodeJS.Timeout;
}

const keyOf = (job: IngestJob): string => `${job.tenant}/${job.imageId}`;

export class InProcessJobQueue implements JobQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly ready: string[] = [];
  private readonly waiters = new Map<string, Set<() => void>>();
  private running = 0;
  private closed = false;
  private readonly opts: Required<Omit<JobQueueOptions, "onEvent">> &
    Pick<JobQueueOptions, "onEvent">;

  constructor(options: JobQueueOptions) {
    this.opts = {
      concurrency: 1,
      maxAttempts: 3,
      backoffMs: 1000,
      maxBackoffMs: 60_000,
      ...options,
    };
    if (this.opts.concurrency < 1 || this.opts.maxAttempts < 1)
      throw new Error("concurrency and maxAttempts must be ≥ 1");
  }

  async enqueue(job: IngestJob): Promise<void> {
    if (this.closed) throw new Error("job queue is closed");
    const key = keyOf(job);
    const entry = this.entries.get(key);
    if (entry?.state === "running") entry.rerun = true;
    else if (entry?.state === "backoff")
      this.makeReady(key, entry, 0); // new upload: retry now, fresh count
    else if (!entry) this.makeReady(key, { job, attempts: 0, state: "waiting", rerun: false }, 0);
    this.pump();
  }

  waitFor(job: IngestJob, timeoutMs: number): Promise<void> {
    const key = keyOf(job);
    if (!this.entries.has(key)) return Promise.resolve();
    return new Promise((resolve) => {
      const set = this.waiters.get(key) ?? new Set();
      this.waiters.set(key, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  /**
   * Re-enqueue every record a previous process acknowledged but did not finish, oldest upload first.
   * Not in id order: after repeated crashes (the kill -9 drill) an image whose id sorted late was
   * overtaken by every newer upload and waited 44 restarts; oldest-first keeps recovery FIFO.
   */
  async recover(catalog: ImageCatalog & { tenants(): Promise<string[]> }): Promise<number> {
    const unfinished: { tenant: string; record: ImageRecord }[] = [];
    for (const tenant of await catalog.tenants()) {
      const records = await catalog.list(tenant);
      for (const record of records)
        if (record.status === "queued" || record.status === "processing")
          unfinished.push({ tenant, record });
    }
    unfinished.sort(
      (a, b) =>
        a.record.createdAt.localeCompare(b.record.createdAt) ||
        a.record.id.localeCompare(b.record.id),
    );
    for (const { tenant, record } of unfinished) await this.enqueue({ tenant, imageId: record.id });
    return unfinished.length;
  }

  /** The dead letters: images whose jobs failed for good. */
  deadLetters(catalog: ImageCatalog, tenant: string): Promise<ImageRecord[]> {
    return catalog.list(tenant, { status: "failed" });
  }

  /** Jobs waiting, running or backing off. */
  get size(): number {
    return this.entries.size;
  }

  /** Resolves when no job is pending (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while (this.entries.size > 0) {
      const [key] = this.entries.keys();
      await this.waitFor(this.entries.get(key!)!.job, 60_000);
    }
  }

  /** Stop taking work; let running jobs finish; drop scheduled retries (recovered at next start). */
  async close(): Promise<void> {
    this.closed = true;
    this.ready.length = 0;
    for (const entry of this.entries.values()) if (entry.timer) clearTimeout(entry.timer);
    while (this.running > 0) await new Promise((r) => setTimeout(r, 20));
  }

  private makeReady(key: string, entry: Entry, attempts: number): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.attempts = attempts;
    entry.state = "waiting";
    this.entries.set(key, entry);
    if (!this.ready.includes(key)) this.ready.push(key);
  }

  private pump(): void {
    while (!this.closed && this.running < this.opts.concurrency && this.ready.length > 0) {
      const key = this.ready.shift()!;
      const entry = this.entries.get(key);
      if (entry?.state === "waiting") void this.run(key, entry);
    }
  }

  private async run(key: string, entry: Entry): Promise<void> {
    this.running++;
    entry.state = "running";
    entry.rerun = false;
    const attempt = entry.attempts + 1;
    const final = attempt >= this.opts.maxAttempts;
    const t0 = performance.now();
    const outcome = await this.opts
      .handler(entry.job, { attempt, final })
      .catch((err: unknown): IngestOutcome => ({
        status: "failed",
        retry: !final,
        error: String(err),
        errorCode: "ingest_failed",
      }));
    this.running--;
    const retryInMs = this.settle(key, entry, attempt, outcome);
    this.opts.onEvent?.({
      job: entry.job,
      attempt,
      outcome,
      ms: performance.now() - t0,
      ...(retryInMs ? { retryInMs } : {}),
    });
    this.pump();
  }

  /** Decide what follows an attempt; returns the backoff delay when a retry is scheduled. */
  private settle(
    key: string,
    entry: Entry,
    attempt: number,
    outcome: IngestOutcome,
  ): number | undefined {
    if (this.closed) return undefined;
    if (entry.rerun) {
      this.makeReady(key, entry, 0);
      return undefined;
    }
    if (outcome.status === "failed" && outcome.retry) {
      const delay = Math.min(this.opts.backoffMs * 2 ** (attempt - 1), this.opts.maxBackoffMs);
      entry.attempts = attempt;
      entry.state = "backoff";
      entry.timer = setTimeout(() => {
        this.makeReady(key, entry, attempt);
        this.pump();
      }, delay);
      entry.timer.unref();
      return delay;
    }
    this.entries.delete(key);
    for (const wake of [...(this.waiters.get(key) ?? [])]) wake();
    this.waiters.delete(key);
    return undefined;
  }
}
