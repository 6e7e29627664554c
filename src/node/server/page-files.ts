/** The search page's files (the list is src/lib/api/page.ts's), read from src/lib for createApp. */
import { readFileSync } from "node:fs";
import { PAGE_FILES, type PageFiles } from "../../lib/api/page.js";

const LIB = new URL("../../lib/", import.meta.url);

export function readPageFiles(): PageFiles {
  return Object.fromEntries(
    PAGE_FILES.map((file) => [file, readFileSync(new URL(file, LIB), "utf8")]),
  ) as PageFiles;
}
