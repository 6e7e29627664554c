/**
 * Browser JS (served inside /page/app.js): the API client of the search page. Every request carries
 * the API key from localStorage when one is set; images are fetched with that header and shown
 * through object URLs, because an <img src> could not send it.
 */
export const CLIENT_JS = String.raw`
var KEY_STORE = "region-search.apiKey";
var ACCEPTED = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp" };

function apiKey() {
  try { return localStorage.getItem(KEY_STORE) || ""; } catch (e) { return ""; }
}

function saveApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORE, key); else localStorage.removeItem(KEY_STORE);
  } catch (e) { /* storage disabled: the key lives for this page only */ }
  imageUrls.clear();
  imageRecords.clear();
}

function authHeaders(extra) {
  var headers = Object.assign({}, extra || {});
  var key = apiKey();
  if (key) headers.authorization = "Bearer " + key;
  return headers;
}

// The API's one error body {error: {code, message, requestId}} → an Error with status and code.
function toApiError(status, body, fallback) {
  var err = new Error(body && body.error ? body.error.message : fallback);
  err.status = status;
  err.code = body && body.error ? body.error.code : "http_" + status;
  return err;
}

async function api(path, init) {
  init = init || {};
  var res = await fetch(path, Object.assign({}, init, { headers: authHeaders(init.headers) }));
  if (res.ok) return res;
  var body = null;
  try { body = await res.json(); } catch (e) { /* not JSON */ }
  throw toApiError(res.status, body, res.status + " " + res.statusText);
}

async function postJson(path, body) {
  var res = await api(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return res.json();
}

var imageUrls = new Map();
var imageRecords = new Map();

// One fetch per image id, shared by every card that shows it.
function imageUrl(id) {
  if (!imageUrls.has(id)) {
    imageUrls.set(id, api("/v1/images/" + encodeURIComponent(id) + "/file")
      .then(function (res) { return res.blob(); })
      .then(function (blob) { return URL.createObjectURL(blob); }));
  }
  return imageUrls.get(id);
}

function imageRecord(id, fresh) {
  if (fresh || !imageRecords.has(id)) {
    imageRecords.set(id, api("/v1/images/" + encodeURIComponent(id)).then(function (res) { return res.json(); }));
  }
  return imageRecords.get(id);
}

// The content type the API wants; browsers leave file.type empty for some extensions.
function uploadType(file) {
  if (Object.values(ACCEPTED).indexOf(file.type) >= 0) return file.type;
  var ext = (file.name.split(".").pop() || "").toLowerCase();
  return ACCEPTED[ext] || null;
}

// XHR rather than fetch: only XHR reports upload progress.
function xhrUpload(file, type, onProgress) {
  return new Promise(function (resolve, reject) {
    var xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/images");
    xhr.setRequestHeader("content-type", type);
    var key = apiKey();
    if (key) xhr.setRequestHeader("authorization", "Bearer " + key);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(toApiError(xhr.status, xhr.response, "upload failed (" + xhr.status + ")"));
    });
    xhr.addEventListener("error", function () { reject(new Error("network error")); });
    xhr.send(file);
  });
}

var sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };

// Polls GET /v1/images/{id} until the image is indexed or failed (backing off to 3 s).
async function waitIndexed(id, onStatus) {
  var delay = 300;
  var deadline = Date.now() + 30 * 60 * 1000;
  while (Date.now() < deadline) {
    var rec = await imageRecord(id, true);
    onStatus(rec);
    if (rec.status === "indexed" || rec.status === "failed") return rec;
    await sleep(delay);
    delay = Math.min(3000, delay * 1.5);
  }
  throw new Error("still not indexed after 30 minutes");
}
`;
