// @ts-check
/**
 * Uploads on the search page (browser): files from the picker or dropped on the drop zone, each a
 * row with a progress bar and a status that follows the image until it is indexed or failed.
 */
import { uploadType, waitIndexed, xhrUpload } from "./client.js";
import { byId, el, explain, setStatus } from "./dom.js";
import { exampleThumb } from "./example.js";
import { lastSearched } from "./results.js";

const UPLOAD_CONCURRENCY = 3;

/**
 * Uploads run UPLOAD_CONCURRENCY at a time; each file gets a row with a progress bar and a status.
 * @param {FileList} files
 */
function uploadFiles(files) {
  const queue = Array.from(files).map(uploadRow);
  /** @returns {Promise<void>} */
  const next = () => {
    const job = queue.shift();
    return job ? job().then(next) : Promise.resolve();
  };
  const workers = [];
  for (let i = 0; i < Math.min(UPLOAD_CONCURRENCY, queue.length); i++) workers.push(next());
  // Results on screen are not replaced under the reader's eyes: say that a new search includes them.
  return Promise.all(workers).then(() => {
    if (lastSearched())
      setStatus(
        byId("status", HTMLElement),
        "New images are indexed: search again to include them.",
      );
  });
}

/**
 * Adds the file's row; answers the job that uploads it and follows it until indexed or failed.
 * @param {File} file
 * @returns {() => Promise<void>}
 */
function uploadRow(file) {
  const progress = el("progress", {
    max: "100",
    value: "0",
    "aria-label": `Upload of ${file.name}`,
  });
  const state = el("span", { class: "state", text: "waiting" });
  const row = el("li", { "data-state": "waiting", "data-file": file.name }, [
    el("span", { class: "name", title: file.name, text: file.name }),
    progress,
    state,
  ]);
  byId("uploads", HTMLElement).append(row);
  /** @param {string} s @param {string} text */
  const show = (s, text) => {
    row.dataset.state = s;
    state.textContent = text;
  };
  return async () => {
    const type = uploadType(file);
    if (!type) return show("failed", "failed: not a PNG, JPEG or WebP image");
    try {
      show("uploading", "uploading");
      const metadata = byId("upload-metadata", HTMLTextAreaElement).value.trim();
      const accepted = await xhrUpload(
        file,
        type,
        (f) => (progress.value = Math.round(f * 100)),
        metadata || undefined,
      );
      progress.value = 100;
      row.dataset.imageId = accepted.id;
      const rec = await waitIndexed(accepted.id, (r) =>
        show(r.status, r.status === "indexed" ? "indexed" : `${r.status}…`),
      );
      if (rec.status === "indexed") {
        show("indexed", `indexed · ${rec.regionCount} region${rec.regionCount === 1 ? "" : "s"}`);
        row.firstElementChild?.prepend(exampleThumb(accepted.id));
      } else show("failed", `failed: ${rec.error || "unknown error"}`);
    } catch (err) {
      show("failed", `failed: ${explain(err)}`);
    }
  };
}

/** The file picker and the drop zone. */
export function wireUploads() {
  const zone = byId("dropzone", HTMLElement);
  const input = byId("file-input", HTMLInputElement);
  input.addEventListener("change", () => {
    if (input.files && input.files.length) uploadFiles(input.files);
    input.value = "";
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => {
      e.preventDefault();
      zone.classList.add("over");
    });
  }
  for (const type of ["dragleave", "drop"])
    zone.addEventListener(type, () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) uploadFiles(e.dataTransfer.files);
  });
}
