/**
 * The search page's markup. Plain HTML with no inline script or style, so the strict CSP that
 * page.ts sends holds; behaviour comes from /page/app.js, looks from /page/app.css.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>region-search</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/page/app.css">
<script type="module" src="/page/app.js"></script>
</head>
<body>
<a class="skip" href="#results">Skip to results</a>
<header class="top">
  <h1>region-search</h1>
  <p class="tagline">Search <em>inside</em> your images by text. Every match is a region, drawn as its mask.</p>
  <nav><a href="/docs">API reference</a></nav>
</header>
<main>
  <section class="panel" aria-labelledby="search-heading">
    <h2 id="search-heading" class="visually-hidden">Search</h2>
    <form id="search-form" role="search" autocomplete="off">
      <label for="query">Describe what you are looking for</label>
      <div class="row">
        <input id="query" name="q" type="search" required maxlength="500" placeholder="a small striped red star">
        <button type="submit">Search</button>
      </div>
      <div class="row options">
        <label class="inline"><input id="group" type="checkbox" checked> One result per image</label>
        <label class="inline" for="limit">Results</label>
        <select id="limit"><option>12</option><option selected>24</option><option>48</option><option>100</option></select>
      </div>
    </form>
  </section>

  <section class="panel" aria-labelledby="upload-heading">
    <h2 id="upload-heading">Add images</h2>
    <div id="dropzone" class="dropzone">
      <p>Drop PNG, JPEG or WebP images here, or</p>
      <label for="file-input" class="button">Choose files…</label>
      <input id="file-input" class="visually-hidden" type="file" multiple accept="image/png,image/jpeg,image/webp">
    </div>
    <ul id="uploads" class="uploads" aria-live="polite" aria-label="Uploads"></ul>
  </section>

  <section aria-labelledby="results-heading">
    <h2 id="results-heading">Results</h2>
    <p id="status" class="status" role="status" aria-live="polite">Type a query to search your images.</p>
    <div id="results" class="grid" tabindex="-1"></div>
  </section>

  <section id="similar-section" aria-labelledby="similar-heading" hidden>
    <h2 id="similar-heading">Similar regions</h2>
    <p id="similar-status" class="status" role="status" aria-live="polite"></p>
    <div id="similar" class="grid" tabindex="-1"></div>
  </section>
</main>
<footer class="panel settings">
  <details>
    <summary>API key</summary>
    <form id="key-form">
      <label for="api-key">API key (kept in this browser only, sent as <code>Authorization: Bearer</code>)</label>
      <div class="row">
        <input id="api-key" type="password" autocomplete="off" spellcheck="false">
        <button type="submit">Save</button>
        <button type="button" id="key-clear" class="secondary">Forget</button>
      </div>
    </form>
  </details>
</footer>
</body>
</html>
`;
