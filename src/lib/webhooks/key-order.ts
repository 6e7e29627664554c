/**
 * Per storage key: the last applied event, and a lock so two events of one key never interleave
 * (the ingest function's storage-sync.ts, the local server's storage-webhook.ts). In memory:
 * repeats and reordering are made harmless by reconciling with the object's current state, so this
 * only saves work.
 */
import { compareEvents, type StorageEvent } from "./storage-events.js";

type Ordered = Pick<StorageEvent, "source" | "order">;

/** Last applied event per key (in memory; see the module comment for why that is enough). */
export class KeyOrder {
  private readonly applied = new Map<string, Ordered>();
  private readonly locks = new Map<string, Promise<unknown>>();

  /** Older than one already applied to the key, by its source's rule (incomparable: not stale). */
  isStale(key: string, event: Ordered): boolean {
    const last = this.applied.get(key);
    return last !== undefined && (compareEvents(event, last) ?? 0) < 0;
  }

  markApplied(key: string, event: Ordered): void {
    const last = this.applied.get(key);
    if (last === undefined || (compareEvents(event, last) ?? 1) > 0)
      this.applied.set(key, { source: event.source, order: event.order });
  }

  /** Runs `work` after every earlier call for `key` has finished. */
  async serial<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}
