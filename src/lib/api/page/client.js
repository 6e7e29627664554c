// @ts-check
/**
 * The search page's API client (browser). Every request carries the API key from localStorage when
 * one is set; images are fetched with that header and shown through object URLs, because an
 * <img src> could not send it. Response types are the API's own schemas (src/lib/api/schemas.ts).
 */

/** @typedef {import("zod").infer<typeof import("../schemas.js").SearchResponseSchema>} SearchResponse */
/** @typedef {import("zod").infer<typeof import("../schemas.js").SearchResultSchema>} SearchResult */
/** @typedef {import("zod").infer<typeof import("../schemas.js").ImageSchema>} ImageRecord */

const KEY_STORE = "region-search.apiKey";
/** @type {Record<string, string>} */
const ACCEPTED = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", webp: "image/webp" };

/** @type {Map<string, Promise<string>>} */
const imageUrls = new Map();
/** @type {Map<string, Promise<ImageRecord>>} */
const imageRecords = new Map();

/** The saved API key ("" when none). */
export function apiKey() {
  try {
    return localStorage.getItem(KEY_STORE) || "";
  } catch {
    return "";
  }
}

/**
 * Saves the key ("" forgets it) and drops what was fetched with the previous one.
 * @param {string} key
 */
export function saveApiKey(key) {
  try {
    if (key) localStorage.setItem(KEY_STORE, key);
    else localStorage.removeItem(KEY_STORE);
  } catch {
    /* storage disabled: the key lives for this page only */
  }
  imageUrls.clear();
  imageRecords.clear();
}

/**
 * @param {Record<string, string>} [extra]
 * @returns {Record<string, string>}
 */
function authHeaders(extra) {
  /** @type {Record<string, string>} */
  const headers = { ...extra };
  const key = apiKey();
  if (key) headers.authorization = `Bearer ${key}`;
  return headers;
}

/** A failed call: the API's one error body {error: {code, message, requestId}}, with the HTTP status. */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {unknown} body the response body, when it was JSON
   * @param {string} fallback the message when the body is not the API's error
   */
  constructor(status, body, fallback) {
    const error = errorOf(body);
    super(error ? error.message : fallback);
    this.status = status;
    this.code = error ? error.code : `http_${status}`;
  }
}

/**
 * @param {unknown} body
 * @returns {{ code: string, message: string } | undefined}
 */
function errorOf(body) {
  const error = body && typeof body === "object" && "error" in body ? body.error : undefined;
  return error && typeof error === "object"
    ? /** @type {{ code: string, message: string }} */ (error)
    : undefined;
}

/**
 * fetch() with the API key; an answer other than 2xx throws an ApiError.
 * @param {string} path
 * @param {Omit<RequestInit, "headers"> & { headers?: Record<string, string> }} [init]
 */
export async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: authHeaders(init.headers) });
  if (res.ok) return res;
  let body = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  throw new ApiError(res.status, body, `${res.status} ${res.statusText}`);
}

/**
 * POSTs a JSON body, answers the JSON response.
 * @param {string} path
 * @param {unknown} body
 * @returns {Promise<unknown>}
 */
export async function postJson(path, body) {
  const res = await api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return res.json();
}

/**
 * An object URL of the image's bytes: one fetch per image id, shared by every card that shows it.
 * @param {string} id
 */
export function imageUrl(id) {
  let url = imageUrls.get(id);
  if (!url) {
    url = api(`/v1/images/${encodeURIComponent(id)}/file`)
      .then((res) => res.blob())
      .then((blob) => URL.createObjectURL(blob));
    imageUrls.set(id, url);
  }
  return url;
}

/**
 * GET /v1/images/{id}, once per id unless `fresh`.
 * @param {string} id
 * @param {boolean} [fresh]
 */
export function imageRecord(id, fresh) {
  let record = imageRecords.get(id);
  if (fresh || !record) {
    record = api(`/v1/images/${encodeURIComponent(id)}`).then(
      (res) => /** @type {Promise<ImageRecord>} */ (res.json()),
    );
    imageRecords.set(id, record);
  }
  return record;
}

/**
 * The content type the API wants (null: not an accepted image); browsers leave file.type empty for
 * some extensions.
 * @param {File} file
 */
export function uploadType(file) {
  if (Object.values(ACCEPTED).includes(file.type)) return file.type;
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return Object.hasOwn(ACCEPTED, ext) ? (ACCEPTED[ext] ?? null) : null;
}

/**
 * POST /v1/images: the file as the body, or with `metadata` (JSON text) a multipart form whose file
 * name becomes the image's name. XHR rather than fetch: only XHR reports upload progress.
 * @param {File} file
 * @param {string} type
 * @param {(fraction: number) => void} onProgress
 * @param {string} [metadata]
 * @returns {Promise<{ id: string }>}
 */
export function xhrUpload(file, type, onProgress, metadata) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/v1/images");
    /** @type {Blob | FormData} */
    let body = file;
    if (metadata) {
      body = new FormData();
      body.set("file", new File([file], file.name, { type }));
      body.set("metadata", metadata);
    } else xhr.setRequestHeader("content-type", type);
    const key = apiKey();
    if (key) xhr.setRequestHeader("authorization", `Bearer ${key}`);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else reject(new ApiError(xhr.status, xhr.response, `upload failed (${xhr.status})`));
    });
    xhr.addEventListener("error", () => reject(new Error("network error")));
    xhr.send(body);
  });
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET /v1/images/{id} until the image is indexed or failed (backing off to 3 s).
 * @param {string} id
 * @param {(record: ImageRecord) => void} onStatus
 */
export async function waitIndexed(id, onStatus) {
  let delay = 300;
  const deadline = Date.now() + 30 * 60 * 1000;
  while (Date.now() < deadline) {
    const rec = await imageRecord(id, true);
    onStatus(rec);
    if (rec.status === "indexed" || rec.status === "failed") return rec;
    await sleep(delay);
    delay = Math.min(3000, delay * 1.5);
  }
  throw new Error("still not indexed after 30 minutes");
}
