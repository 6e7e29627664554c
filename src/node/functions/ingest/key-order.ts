/**
 * Per storage key: the last applied event `order`, and a lock so two events of one key never
 * interleave (storage-sync.ts). In memory: repeats and reordering are made harmless by reconciling
 * with the object's current state, so this only saves work.
 */
import { compareOrder } from "../../../lib/webhooks/storage-events.js";

/** Last applied `order` per key (in memory; see the module comment for why that is enough). */
export class KeyOrder {
  private readonly applied = new Map<string, string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  isStale(key: string, order: string): boolean {
    const last = this.applied.get(key);
    return last !== undefined && compareOrder(order, last) < 0;
  }

  markApplied(key: string, order: string): void {
    const last = this.applied.get(key);
    if (last === undefined || compareOrder(order, last) > 0) this.applied.set(key, order);
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
