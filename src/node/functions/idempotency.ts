/**
 * Deduplication by Standard Webhooks message id: a delivery repeated after it settled gets the
 * recorded answer without running again, and a repeat arriving while the first still runs waits for
 * it. Only settled answers are remembered (a retryable failure must run again on redelivery).
 *
 * In memory, per process, with a TTL: enough for queue redeliveries, which reach the same warm
 * instance most of the time; correctness never depends on it, because ingest itself is idempotent
 * (deterministic point ids), this only saves the model run.
 */
export class IdempotencyCache<T> {
  private readonly done = new Map<string, { value: T; expires: number }>();
  private readonly running = new Map<string, Promise<T>>();

  constructor(
    private readonly ttlMs = 24 * 60 * 60 * 1000,
    private readonly maxEntries = 10_000,
  ) {}

  /** Runs `work` once per `id`; `settled(value)` says whether the answer may be replayed. */
  async run(
    id: string,
    work: () => Promise<T>,
    settled: (value: T) => boolean,
  ): Promise<{ value: T; replayed: boolean }> {
    const hit = this.done.get(id);
    if (hit && hit.expires > Date.now()) return { value: hit.value, replayed: true };
    const pending = this.running.get(id);
    if (pending) return { value: await pending, replayed: true };
    const promise = work();
    this.running.set(id, promise);
    try {
      const value = await promise;
      if (settled(value)) this.remember(id, value);
      return { value, replayed: false };
    } finally {
      this.running.delete(id);
    }
  }

  private remember(id: string, value: T): void {
    if (this.done.size >= this.maxEntries) {
      // Maps iterate in insertion order: drop the oldest.
      const oldest = this.done.keys().next().value;
      if (oldest !== undefined) this.done.delete(oldest);
    }
    this.done.set(id, { value, expires: Date.now() + this.ttlMs });
  }
}
