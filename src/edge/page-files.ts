/**
 * The search page's files in the Worker, bundled as text (`?raw`: wrangler.toml's Text rule), one
 * import per file of src/lib/api/page.ts's PAGE_FILES: the `PageFiles` type fails the typecheck when
 * one is missing, and test/edge/page.test.ts compares what the Worker serves with the files on disk.
 */
import type { PageFiles } from "../lib/api/page.js";
import appCss from "../lib/api/page/app.css?raw";
import appJs from "../lib/api/page/app.js?raw";
import clientJs from "../lib/api/page/client.js?raw";
import domJs from "../lib/api/page/dom.js?raw";
import filtersJs from "../lib/api/page/filters.js?raw";
import exampleJs from "../lib/api/page/example.js?raw";
import indexHtml from "../lib/api/page/index.html?raw";
import overlayJs from "../lib/api/page/overlay.js?raw";
import resultsJs from "../lib/api/page/results.js?raw";
import uploadsJs from "../lib/api/page/uploads.js?raw";
import rleDecodeJs from "../lib/masks/rle-decode.js?raw";

export const PAGE_FILE_TEXT: PageFiles = {
  "api/page/index.html": indexHtml,
  "api/page/app.css": appCss,
  "api/page/app.js": appJs,
  "api/page/client.js": clientJs,
  "api/page/dom.js": domJs,
  "api/page/filters.js": filtersJs,
  "api/page/example.js": exampleJs,
  "api/page/overlay.js": overlayJs,
  "api/page/results.js": resultsJs,
  "api/page/uploads.js": uploadsJs,
  "masks/rle-decode.js": rleDecodeJs,
};
