/**
 * Image records as one JSON file each: `<dataDir>/catalog/<tenant>/<imageId>.json`, replaced
 * atomically. Enough for the embedded default (thousands of images per tenant); listing reads the
 * tenant's directory.
 */
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { ImageCatalog, ImageRecord, ListOptions } from "../../lib/services.js";
import { isSafeId } from "../../lib/safe-ids.js";
import { isNotFound, safeJoin, writeFileAtomic } from "../fs-atomic.js";

const EXT = ".json";

export class FileCatalog implements ImageCatalog {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = path.join(dataDir, "catalog");
  }

  async get(tenant: string, id: string): Promise<ImageRecord | null> {
    if (!isSafeId(tenant) || !isSafeId(id)) return null;
    return this.read(this.file(tenant, id));
  }

  async put(record: ImageRecord): Promise<void> {
    const file = this.file(record.tenant, record.id);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFileAtomic(file, JSON.stringify(record));
  }

  async delete(tenant: string, id: string): Promise<void> {
    if (!isSafeId(tenant) || !isSafeId(id)) return;
    await rm(this.file(tenant, id), { force: true });
  }

  async list(tenant: string, options: ListOptions = {}): Promise<ImageRecord[]> {
    if (!isSafeId(tenant)) return [];
    // Ordered by id, not by file name: `a.json` sorts after `a-b.json`, `a` before `a-b`.
    const ids = (await this.names(tenant)).map((n) => n.slice(0, -EXT.length)).sort();
    const out: ImageRecord[] = [];
    for (const id of ids) {
      if (options.after !== undefined && id <= options.after) continue;
      const record = await this.read(path.join(this.root, tenant, `${id}${EXT}`));
      if (record && matchesList(record, options)) out.push(record);
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  /** Every tenant with a catalog directory (start-up recovery walks them all). */
  async tenants(): Promise<string[]> {
    try {
      const entries = await readdir(this.root, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory() && isSafeId(e.name)).map((e) => e.name);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  private file(tenant: string, id: string): string {
    return `${safeJoin(this.root, tenant, id)}${EXT}`;
  }

  private async names(tenant: string): Promise<string[]> {
    try {
      return (await readdir(safeJoin(this.root, tenant))).filter((n) => n.endsWith(EXT));
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
  }

  private async read(file: string): Promise<ImageRecord | null> {
    try {
      return JSON.parse(await readFile(file, "utf8")) as ImageRecord;
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }
}

/** The status and `where` checks of a list call (shared by the catalogs). */
export function matchesList(record: ImageRecord, options: ListOptions): boolean {
  return (!options.status || record.status === options.status) && (options.where?.(record) ?? true);
}
