/**
 * Image bytes on local disk: `<dataDir>/blobs/<tenant>/<imageId>.bin` plus `<imageId>.meta.json`
 * (content type). Both written atomically; the meta file is written last so a blob with meta is whole.
 */
import { mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { BlobStore } from "../../lib/services.js";
import { isSafeId } from "../../lib/safe-ids.js";
import { isNotFound, safeJoin, writeFileAtomic } from "../fs-atomic.js";

export class DiskBlobStore implements BlobStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "blobs");
  }

  async put(tenant: string, id: string, bytes: Uint8Array, contentType: string): Promise<void> {
    const base = safeJoin(this.root, tenant, id);
    await mkdir(path.dirname(base), { recursive: true });
    await writeFileAtomic(`${base}.bin`, bytes);
    await writeFileAtomic(
      `${base}.meta.json`,
      JSON.stringify({ contentType, bytes: bytes.length }),
    );
  }

  async get(
    tenant: string,
    id: string,
  ): Promise<{ bytes: Uint8Array; contentType: string } | null> {
    if (!isSafeId(tenant) || !isSafeId(id)) return null;
    const base = safeJoin(this.root, tenant, id);
    try {
      const meta = JSON.parse(await readFile(`${base}.meta.json`, "utf8")) as {
        contentType: string;
      };
      const buf = await readFile(`${base}.bin`);
      return {
        bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength),
        contentType: meta.contentType,
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async delete(tenant: string, id: string): Promise<void> {
    if (!isSafeId(tenant) || !isSafeId(id)) return;
    const base = safeJoin(this.root, tenant, id);
    await rm(`${base}.meta.json`, { force: true });
    await rm(`${base}.bin`, { force: true });
  }
}
