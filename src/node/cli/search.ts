/** `region-search search "<text>"`: a table of matching regions (or the API's JSON with `--json`). */
import type { ApiClient, SearchOptions } from "./client.js";
import { formatTable } from "./table.js";

export async function searchCommand(
  client: ApiClient,
  text: string,
  options: SearchOptions & { json?: boolean },
): Promise<string> {
  const { json, ...search } = options;
  const { results, tookMs } = await client.search(text, search);
  if (json) return JSON.stringify({ query: text, results, tookMs }, null, 2);
  if (results.length === 0) return `No regions match "${text}" (${tookMs} ms).`;
  const rows = results.map((r, i) => [
    i + 1,
    r.score.toFixed(3),
    r.imageId,
    r.regionId,
    r.bbox.map(Math.round).join(","),
    Math.round(r.area),
  ]);
  return `${formatTable(["#", "score", "image", "region", "bbox x,y,w,h", "area"], rows)}\n${results.length} result${results.length === 1 ? "" : "s"} in ${tookMs} ms`;
}
