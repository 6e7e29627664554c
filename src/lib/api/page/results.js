// @ts-check
/**
 * Search and "similar regions" on the search page (browser): result cards with the image, its mask
 * overlay, score and region count; a click on a point of a card's image searches for the thing there
 * (example.js), Enter on it searches by the whole region.
 */
import { imageRecord, imageUrl, postJson } from "./client.js";
import { byId, el, explain, setStatus } from "./dom.js";
import { currentFilter, filtersLoaded, wireFilters } from "./filters.js";
import { clickedPoint, searchAt } from "./example.js";
import { drawMaskOverlay } from "./overlay.js";

/** @typedef {import("./client.js").SearchResponse} SearchResponse */
/** @typedef {import("./client.js").SearchResult} SearchResult */

const OVERLAY_MAX_SIDE = 640;
let lastQuery = "";

/** The last query searched successfully ("" before the first). */
export function lastSearched() {
  return lastQuery;
}

export function resultLimit() {
  return Number(byId("limit", HTMLSelectElement).value) || 24;
}

/** @param {number} n @param {string} noun */
const plural = (n, noun) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** @param {string} query */
export async function runSearch(query) {
  const status = byId("status", HTMLElement);
  setStatus(status, "Searching…");
  try {
    const filter = currentFilter();
    const body = {
      query,
      limit: resultLimit(),
      groupByImage: byId("group", HTMLInputElement).checked,
      ...(filter ? { filter } : {}),
    };
    const data = /** @type {SearchResponse} */ (await postJson("/v1/search", body));
    lastQuery = query;
    if (!filtersLoaded()) wireFilters();
    renderCards(byId("results", HTMLElement), data.results);
    setStatus(
      status,
      data.results.length
        ? `${plural(data.results.length, "result")} for “${query}” (${Math.round(data.tookMs)} ms)`
        : filter
          ? `No regions match “${query}” with these filters.`
          : `No regions match “${query}” yet. Add images below.`,
    );
  } catch (err) {
    setStatus(status, `Search failed: ${explain(err)}`, true);
  }
}

/** @param {SearchResult} result */
async function runSimilar(result) {
  const section = byId("similar-section", HTMLElement);
  const status = byId("similar-status", HTMLElement);
  section.hidden = false;
  byId("similar-heading", HTMLElement).textContent =
    `Regions similar to a region of ${result.imageId}`;
  setStatus(status, "Finding similar regions…");
  try {
    const data = /** @type {SearchResponse} */ (
      await postJson("/v1/search/similar", {
        regionId: result.regionId,
        limit: resultLimit(),
        ...(currentFilter() ? { filter: currentFilter() } : {}),
      })
    );
    const grid = byId("similar", HTMLElement);
    renderCards(grid, data.results);
    setStatus(status, `${plural(data.results.length, "similar region")}.`);
    section.dataset.sourceRegion = result.regionId;
    section.scrollIntoView({ block: "start" });
    grid.focus({ preventScroll: true });
  } catch (err) {
    setStatus(status, `Similar search failed: ${explain(err)}`, true);
  }
}

/**
 * @param {HTMLElement} grid
 * @param {SearchResult[]} results
 */
export function renderCards(grid, results) {
  grid.replaceChildren(...results.map(makeCard));
}

const METADATA_SHOWN = 6;

/**
 * The result's metadata as a small definition list (the first few keys), or nothing.
 * @param {SearchResult["metadata"]} metadata
 */
function metadataList(metadata) {
  const entries = Object.entries(metadata ?? {}).slice(0, METADATA_SHOWN);
  if (entries.length === 0) return [];
  const items = entries.flatMap(([k, v]) => [
    el("dt", { text: k }),
    el("dd", { text: Array.isArray(v) ? v.join(", ") : String(v) }),
  ]);
  return [el("dl", { class: "metadata" }, items)];
}

/** @param {SearchResult} r */
function makeCard(r) {
  const label = `Find regions similar to this region of ${r.imageId} (score ${r.score.toFixed(3)}); click a point to search for the thing there`;
  const img = el("img", { alt: `Image ${r.imageId}`, decoding: "async" });
  const canvas = el("canvas", { "aria-hidden": "true", class: "overlay" });
  const media = el(
    "button",
    {
      type: "button",
      class: "media",
      "aria-label": label,
      title: "Click a point to search for it",
    },
    [img, canvas],
  );
  const regions = el("span", { class: "regions", text: "… regions" });
  const card = el(
    "article",
    {
      class: "card",
      "data-image-id": r.imageId,
      "data-region-id": r.regionId,
      "data-score": String(r.score),
    },
    [
      media,
      el("div", { class: "meta" }, [
        el("span", { class: "id", title: r.imageId, text: r.imageName ?? r.imageId }),
        ...metadataList(r.metadata),
        el("span", { class: "score", text: `score ${r.score.toFixed(3)}` }),
        regions,
        el("span", {
          class: "hint",
          text: "Click a point of the image to search for that thing; Enter for similar regions",
        }),
      ]),
    ],
  );
  media.addEventListener("click", (event) => {
    // A pointer click names a point (query by example); a keyboard press (detail 0) the region.
    const point = event.detail > 0 ? clickedPoint(event, img) : null;
    if (point) searchAt(r.imageId, point);
    else runSimilar(r);
  });
  try {
    const pixels = drawMaskOverlay(canvas, r.mask, OVERLAY_MAX_SIDE);
    canvas.dataset.overlay = "drawn";
    canvas.dataset.maskPixels = String(pixels);
  } catch {
    canvas.dataset.overlay = "error";
  }
  imageUrl(r.imageId).then(
    (url) => (img.src = url),
    () => (img.alt = `Image ${r.imageId} could not be loaded`),
  );
  imageRecord(r.imageId).then(
    (rec) => {
      regions.textContent =
        rec.regionCount === null ? "regions pending" : plural(rec.regionCount, "region");
      card.dataset.regionCount = String(rec.regionCount);
    },
    () => (regions.textContent = "regions unknown"),
  );
  return card;
}
