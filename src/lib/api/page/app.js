// @ts-check
/**
 * The search page's entry module (browser; index.html loads it as `<script type="module">`): search,
 * result cards with mask overlays, "similar regions", uploads with progress and status, the API key
 * form. Event handlers are attached here (never inline), so the page runs under a script-src 'self'
 * CSP. The modules are served as they are in the repository: no build step.
 */
import { apiKey, saveApiKey } from "./client.js";
import { byId, setStatus } from "./dom.js";
import { wireFilters } from "./filters.js";
import { runSearch } from "./results.js";
import { wireUploads } from "./uploads.js";

function wireKey() {
  const input = byId("api-key", HTMLInputElement);
  const status = byId("status", HTMLElement);
  input.value = apiKey();
  byId("key-form", HTMLFormElement).addEventListener("submit", (e) => {
    e.preventDefault();
    saveApiKey(input.value.trim());
    setStatus(status, input.value.trim() ? "API key saved in this browser." : "API key forgotten.");
    wireFilters(); // the declared fields need the key
  });
  byId("key-clear", HTMLButtonElement).addEventListener("click", () => {
    input.value = "";
    saveApiKey("");
    setStatus(status, "API key forgotten.");
  });
}

function init() {
  const query = byId("query", HTMLInputElement);
  byId("search-form", HTMLFormElement).addEventListener("submit", (e) => {
    e.preventDefault();
    const q = query.value.trim();
    if (q) runSearch(q);
  });
  wireUploads();
  wireKey();
  // Without a saved key the fields are asked for after the first search that succeeds (a keyless
  // server), so a server with keys does not log a 401 before the key is entered.
  if (apiKey()) wireFilters();
  const q = new URLSearchParams(location.search).get("q");
  if (q) {
    query.value = q;
    runSearch(q);
  }
  document.body.dataset.ready = "true";
}

init();
