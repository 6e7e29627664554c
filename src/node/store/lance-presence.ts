/**
 * Which images have points in the embedded store, as this process knows it: what lets the first
 * write of an image be one LanceDB append (one commit) instead of a merge-insert plus a stale-point
 * delete (two commits, each with a fixed cost of 5–12 ms; docs/ingest-overhead.md).
 *
 * Sound because the embedded store belongs to one process (docs/deploy.md): every write goes
 * through that process's serialised write queue, so after an exact load the set can only be wrong
 * in the safe direction. A key is marked present *before* each write that may add rows (a failed or
 * half-reported commit leaves it present: the two-commit path, which is always correct) and marked
 * absent only after a delete of all the image's rows has committed. "Absent" therefore always
 * means: no row of this image exists, so an append can neither duplicate an id nor leave a stale one.
 */
import type * as lancedb from "@lancedb/lancedb";

/** Tenants and image ids cannot contain "/" (src/lib/safe-ids.ts), so the key is unambiguous. */
const key = (tenant: string, imageId: string): string => `${tenant}/${imageId}`;

export class ImagePresence {
  private readonly present = new Set<string>();
  private loaded = false;

  /** A store whose table does not exist yet: nothing is present. */
  static empty(): ImagePresence {
    const p = new ImagePresence();
    p.loaded = true;
    return p;
  }

  /**
   * Reads every row's (tenant, image_id) once, ~0.1 s per 100 000 rows. Run it in the write queue:
   * a write ordered before it is in what it reads, one ordered after it marks its own key.
   */
  async load(table: lancedb.Table): Promise<void> {
    const columns = await table.query().select(["tenant", "image_id"]).toArrow();
    for (const batch of columns.batches) {
      const tenants = batch.getChild("tenant")!,
        images = batch.getChild("image_id")!;
      for (let i = 0; i < batch.numRows; i++)
        this.present.add(key(String(tenants.get(i)), String(images.get(i))));
    }
    this.loaded = true;
  }

  /** True only when the image certainly has no row (before the load: never). */
  hasNoRows(tenant: string, imageId: string): boolean {
    return this.loaded && !this.present.has(key(tenant, imageId));
  }

  markPresent(tenant: string, imageId: string): void {
    this.present.add(key(tenant, imageId));
  }

  /** Only after a delete of every row of the image has committed. */
  markAbsent(tenant: string, imageId: string): void {
    this.present.delete(key(tenant, imageId));
  }
}
