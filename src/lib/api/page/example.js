// @ts-check
/**
 * Click-to-search on the search page (browser): a click on a point of a result's image, or of an
 * uploaded image's thumbnail, searches for the thing under the pointer — query by example,
 * `POST /v1/search/similar {example: {imageId, point}}`. The server segments the clicked thing with
 * the pack's interactive decoder; its mask is shown first, the regions like it after it.
 */
import { imageUrl, postJson } from "./client.js";
import { byId, el, explain, setStatus } from "./dom.js";
import { currentFilter } from "./filters.js";
import { drawMaskOverlay } from "./overlay.js";
import { renderCards, resultLimit } from "./results.js";

/** @typedef {import("./client.js").SearchResult} SearchResult */
/**
 * @typedef {{ width: number, height: number, bbox: number[], area: number,
 *   mask: import("../../masks/types.js").CocoRle }} ExampleQuery
 * @typedef {{ results: SearchResult[], tookMs: number, query: ExampleQuery }} ExampleResponse
 */

/**
 * The image pixel under a click on an `<img>` drawn with `object-fit: contain`, or null when the
 * click fell on the letterbox around the picture (or the image has not loaded).
 * @param {MouseEvent} event
 * @param {HTMLImageElement} img
 * @returns {[number, number] | null}
 */
export function clickedPoint(event, img) {
  const { naturalWidth: w, naturalHeight: h } = img;
  if (!w || !h) return null;
  const box = img.getBoundingClientRect();
  const scale = Math.min(box.width / w, box.height / h);
  const x = (event.clientX - box.left - (box.width - w * scale) / 2) / scale;
  const y = (event.clientY - box.top - (box.height - h * scale) / 2) / scale;
  if (x < 0 || y < 0 || x >= w || y >= h) return null;
  return [Math.floor(x), Math.floor(y)];
}

/**
 * Searches for the thing at `point` of the stored image `imageId`; the answer fills the "similar"
 * section: the clicked thing's mask first, then the regions like it.
 * @param {string} imageId
 * @param {[number, number]} point
 */
export async function searchAt(imageId, point) {
  const section = byId("similar-section", HTMLElement);
  const status = byId("similar-status", HTMLElement);
  section.hidden = false;
  byId("similar-heading", HTMLElement).textContent =
    `Regions like the thing at (${point[0]}, ${point[1]}) of ${imageId}`;
  setStatus(status, "Segmenting the clicked thing and searching…");
  try {
    const data = /** @type {ExampleResponse} */ (
      await postJson("/v1/search/similar", {
        example: { imageId, point },
        limit: resultLimit(),
        ...(currentFilter() ? { filter: currentFilter() } : {}),
      })
    );
    const grid = byId("similar", HTMLElement);
    renderCards(grid, data.results);
    grid.prepend(queryCard(imageId, data.query));
    const n = data.results.length;
    setStatus(status, `${n} region${n === 1 ? "" : "s"} like the clicked thing.`);
    section.dataset.exampleImage = imageId;
    section.dataset.examplePoint = point.join(",");
    delete section.dataset.sourceRegion;
    section.scrollIntoView({ block: "start" });
    grid.focus({ preventScroll: true });
  } catch (err) {
    setStatus(status, `Search by example failed: ${explain(err)}`, true);
  }
}

/**
 * The clicked thing as the server segmented it: the image with the query mask drawn over it.
 * @param {string} imageId
 * @param {ExampleQuery} query
 */
function queryCard(imageId, query) {
  const img = el("img", { alt: `The clicked thing in ${imageId}`, decoding: "async" });
  const canvas = el("canvas", { "aria-hidden": "true", class: "overlay" });
  const card = el("article", { class: "card query", "data-image-id": imageId }, [
    el("div", { class: "media" }, [img, canvas]),
    el("div", { class: "meta" }, [
      el("span", { class: "score", text: "Your example" }),
      el("span", { class: "hint", text: `${query.area} pixels segmented in ${imageId}` }),
    ]),
  ]);
  card.dataset.queryArea = String(query.area);
  try {
    drawMaskOverlay(canvas, query.mask, 640);
    canvas.dataset.overlay = "drawn";
  } catch {
    canvas.dataset.overlay = "error";
  }
  imageUrl(imageId).then((url) => (img.src = url));
  return card;
}

/**
 * A thumbnail of an indexed upload: click a point on it to search for the thing there.
 * @param {string} imageId
 */
export function exampleThumb(imageId) {
  const img = el("img", { alt: `Image ${imageId}`, decoding: "async" });
  const thumb = el(
    "button",
    {
      type: "button",
      class: "thumb",
      title: "Click a point to search for the thing there",
      "aria-label": `Search for a thing in ${imageId}: click a point of it`,
    },
    [img],
  );
  thumb.addEventListener("click", (event) => {
    const point = clickedPoint(event, img);
    // A keyboard press has no point: the centre of the image stands for it.
    const at = point ?? [Math.floor(img.naturalWidth / 2), Math.floor(img.naturalHeight / 2)];
    if (img.naturalWidth) searchAt(imageId, at);
  });
  imageUrl(imageId).then((url) => (img.src = url));
  return thumb;
}
