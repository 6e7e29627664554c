/**
 * Replay refusal for signed routes whose effect is not idempotent (the query function's `/rpc/*`,
 * the gateway's `/internal/objects`): a verified message id is claimed until its timestamp leaves the
 * tolerance window, after which the signature check refuses it anyway. A second delivery of the same
 * id inside the window is answered 409 instead of being executed again.
 *
 * In memory, per process or Worker isolate: a replay that reaches another instance inside the window
 * is not caught (docs/deploy.md, "Signatures"). Our callers sign every call with a fresh id, so the
 * ledger never refuses a legitimate request; the routes that must accept redeliveries of one id (the
 * ingest function's queue deliveries) answer them from their own record instead.
 */
export interface ReplayLedger {
  /** True the first time `id` is seen before `expiresAtMs`; false for a replay. */
  claim(id: string, expiresAtMs: number): boolean;
}

export class MemoryReplayLedger implements ReplayLedger {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  claim(id: string, expiresAtMs: number): boolean {
    const t = this.now();
    this.purge(t);
    const until = this.seen.get(id);
    if (until !== undefined && until > t) return false;
    // Oldest first (Map insertion order): under a flood, the entries nearest to expiry go first.
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(id, expiresAtMs);
    return true;
  }

  /** Drops expired entries from the front (claims arrive in roughly increasing expiry). */
  private purge(t: number): void {
    for (const [id, until] of this.seen) {
      if (until > t) return;
      this.seen.delete(id);
    }
  }
}
