/**
 * `import text from "./file?raw"`: the file's text. The Worker bundle gets it through wrangler.toml's
 * Text rule for `?raw` imports; vitest reads `?raw` the same way. Used for the search page's files.
 */
declare module "*?raw" {
  const text: string;
  export default text;
}
