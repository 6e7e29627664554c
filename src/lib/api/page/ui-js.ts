/**
 * Browser JS (served inside /page/app.js): the search page's behaviour — search, result cards with
 * mask overlays, "similar regions", uploads with progress and status, the API key form. Event
 * handlers are attached here (never inline) so the page runs under a script-src 'self' CSP.
 */
export const UI_JS = String.raw`
var OVERLAY_MAX_SIDE = 640;
var UPLOAD_CONCURRENCY = 3;
var $ = function (id) { return document.getElementById(id); };
var lastQuery = "";

function el(tag, attrs, children) {
  var node = document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) {
    if (k === "text") node.textContent = attrs[k]; else node.setAttribute(k, attrs[k]);
  });
  (children || []).forEach(function (c) { node.append(c); });
  return node;
}

function setStatus(node, text, isError) {
  node.textContent = text;
  node.classList.toggle("error", !!isError);
}

function explain(err) {
  if (err.status === 401) {
    $("api-key").closest("details").open = true;
    return "This server needs an API key: enter it under “API key” below.";
  }
  return err.message || String(err);
}

function limit() { return Number($("limit").value) || 24; }

async function runSearch(query) {
  var status = $("status");
  setStatus(status, "Searching…");
  try {
    var data = await postJson("/v1/search", { query: query, limit: limit(), groupByImage: $("group").checked });
    lastQuery = query;
    renderCards($("results"), data.results);
    setStatus(status, data.results.length
      ? data.results.length + " result" + (data.results.length === 1 ? "" : "s") + " for “" + query + "” (" + Math.round(data.tookMs) + " ms)"
      : "No regions match “" + query + "” yet. Add images below.");
  } catch (err) {
    setStatus(status, "Search failed: " + explain(err), true);
  }
}

async function runSimilar(result) {
  var section = $("similar-section");
  var status = $("similar-status");
  section.hidden = false;
  $("similar-heading").textContent = "Regions similar to a region of " + result.imageId;
  setStatus(status, "Finding similar regions…");
  try {
    var data = await postJson("/v1/search/similar", { regionId: result.regionId, limit: limit() });
    renderCards($("similar"), data.results);
    setStatus(status, data.results.length + " similar region" + (data.results.length === 1 ? "" : "s") + ".");
    section.dataset.sourceRegion = result.regionId;
    section.scrollIntoView({ block: "start" });
    $("similar").focus({ preventScroll: true });
  } catch (err) {
    setStatus(status, "Similar search failed: " + explain(err), true);
  }
}

function renderCards(grid, results) {
  grid.replaceChildren.apply(grid, results.map(makeCard));
}

function makeCard(r) {
  var label = "Find regions similar to this region of " + r.imageId + " (score " + r.score.toFixed(3) + ")";
  var img = el("img", { alt: "Image " + r.imageId, decoding: "async" });
  var canvas = el("canvas", { "aria-hidden": "true", class: "overlay" });
  var media = el("button", { type: "button", class: "media", "aria-label": label, title: "Click for similar regions" }, [img, canvas]);
  var regions = el("span", { class: "regions", text: "… regions" });
  var card = el("article", { class: "card", "data-image-id": r.imageId, "data-region-id": r.regionId, "data-score": String(r.score) }, [
    media,
    el("div", { class: "meta" }, [
      el("span", { class: "id", title: r.imageId, text: r.imageId }),
      el("span", { class: "score", text: "score " + r.score.toFixed(3) }),
      regions,
      el("span", { class: "hint", text: "Click or press Enter on the image for similar regions" }),
    ]),
  ]);
  media.addEventListener("click", function () { runSimilar(r); });
  try {
    var pixels = drawMaskOverlay(canvas, r.mask, OVERLAY_MAX_SIDE);
    canvas.dataset.overlay = "drawn";
    canvas.dataset.maskPixels = String(pixels);
  } catch (err) {
    canvas.dataset.overlay = "error";
  }
  imageUrl(r.imageId).then(function (url) { img.src = url; }, function () { img.alt = "Image " + r.imageId + " could not be loaded"; });
  imageRecord(r.imageId).then(function (rec) {
    regions.textContent = rec.regionCount === null ? "regions pending" : rec.regionCount + " region" + (rec.regionCount === 1 ? "" : "s");
    card.dataset.regionCount = String(rec.regionCount);
  }, function () { regions.textContent = "regions unknown"; });
  return card;
}

// Uploads run UPLOAD_CONCURRENCY at a time; each file gets a row with a progress bar and a status.
function uploadFiles(files) {
  var queue = Array.prototype.slice.call(files).map(uploadRow);
  var next = function () {
    var job = queue.shift();
    return job ? job().then(next) : Promise.resolve();
  };
  var workers = [];
  for (var i = 0; i < Math.min(UPLOAD_CONCURRENCY, queue.length); i++) workers.push(next());
  // Results on screen are not replaced under the reader's eyes: say that a new search includes them.
  return Promise.all(workers).then(function () {
    if (lastQuery) setStatus($("status"), "New images are indexed: search again to include them.");
  });
}

function uploadRow(file) {
  var progress = el("progress", { max: "100", value: "0", "aria-label": "Upload of " + file.name });
  var state = el("span", { class: "state", text: "waiting" });
  var row = el("li", { "data-state": "waiting", "data-file": file.name }, [el("span", { class: "name", title: file.name, text: file.name }), progress, state]);
  $("uploads").append(row);
  var show = function (s, text) { row.dataset.state = s; state.textContent = text; };
  return async function () {
    var type = uploadType(file);
    if (!type) return show("failed", "failed: not a PNG, JPEG or WebP image");
    try {
      show("uploading", "uploading");
      var accepted = await xhrUpload(file, type, function (f) { progress.value = Math.round(f * 100); });
      progress.value = 100;
      row.dataset.imageId = accepted.id;
      var rec = await waitIndexed(accepted.id, function (r) { show(r.status, r.status === "indexed" ? "indexed" : r.status + "…"); });
      if (rec.status === "indexed") show("indexed", "indexed · " + rec.regionCount + " region" + (rec.regionCount === 1 ? "" : "s"));
      else show("failed", "failed: " + (rec.error || "unknown error"));
    } catch (err) {
      show("failed", "failed: " + explain(err));
    }
  };
}

function wireUploads() {
  var zone = $("dropzone");
  var input = $("file-input");
  input.addEventListener("change", function () {
    if (input.files && input.files.length) uploadFiles(input.files);
    input.value = "";
  });
  ["dragenter", "dragover"].forEach(function (t) {
    zone.addEventListener(t, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (t) {
    zone.addEventListener(t, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) uploadFiles(e.dataTransfer.files);
  });
}

function wireKey() {
  var input = $("api-key");
  input.value = apiKey();
  $("key-form").addEventListener("submit", function (e) {
    e.preventDefault();
    saveApiKey(input.value.trim());
    setStatus($("status"), input.value.trim() ? "API key saved in this browser." : "API key forgotten.");
  });
  $("key-clear").addEventListener("click", function () {
    input.value = "";
    saveApiKey("");
    setStatus($("status"), "API key forgotten.");
  });
}

function init() {
  $("search-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("query").value.trim();
    if (q) runSearch(q);
  });
  wireUploads();
  wireKey();
  var q = new URLSearchParams(location.search).get("q");
  if (q) { $("query").value = q; runSearch(q); }
  document.body.dataset.ready = "true";
}

init();
`;
