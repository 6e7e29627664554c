/** The search page's stylesheet (served as /page/app.css). System fonts, light/dark, visible focus. */
export const PAGE_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --fg: #16181d; --muted: #5b6270; --card: #fff; --line: #d5d9e0;
  --accent: #0b62d6; --accent-fg: #fff; --ok: #11703a; --bad: #b3261e; --focus: #ff9f1a;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #121418; --fg: #e8eaef; --muted: #a2a9b6; --card: #1c1f26; --line: #343a46; --accent: #5aa2ff; --accent-fg: #0b1020; --ok: #6fd49a; --bad: #ff8a80; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
main, .top, footer { max-width: 1200px; margin: 0 auto; padding: 0 1rem; }
.top { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding-top: 1rem; }
.top h1 { margin: 0; font-size: 1.5rem; }
.top nav { margin-left: auto; }
.tagline { margin: 0; color: var(--muted); }
h2 { font-size: 1.1rem; margin: 1.25rem 0 .5rem; }
a { color: var(--accent); }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin-top: 1rem; }
.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .35rem; }
.options { color: var(--muted); font-size: .95rem; }
label { font-weight: 600; }
label.inline { font-weight: 400; display: inline-flex; gap: .35rem; align-items: center; }
input[type=search], input[type=password] { flex: 1 1 20rem; font: inherit; padding: .55rem .7rem; border: 1px solid var(--line); border-radius: 8px; background: var(--bg); color: var(--fg); }
select { font: inherit; padding: .3rem; border-radius: 6px; }
button, .button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 8px; border: 1px solid var(--accent); background: var(--accent); color: var(--accent-fg); cursor: pointer; display: inline-block; }
button.secondary { background: transparent; color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.visually-hidden { position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
.dropzone:focus-within .button { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: .5rem; background: var(--card); padding: .5rem; z-index: 10; }
.dropzone { border: 2px dashed var(--line); border-radius: 10px; padding: 1.25rem; text-align: center; }
.dropzone p { margin: 0 0 .5rem; color: var(--muted); }
.dropzone.over { border-color: var(--accent); background: color-mix(in srgb, var(--accent) 10%, transparent); }
.uploads { list-style: none; padding: 0; margin: .75rem 0 0; display: grid; gap: .35rem; }
.uploads li { display: grid; grid-template-columns: minmax(8rem, 1fr) 10rem minmax(8rem, 1fr); gap: .75rem; align-items: center; font-size: .92rem; }
.uploads .name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.uploads progress { width: 100%; }
.uploads [data-state=indexed] .state { color: var(--ok); }
.uploads [data-state=failed] .state { color: var(--bad); }
.status { color: var(--muted); min-height: 1.5em; }
.status.error { color: var(--bad); }
/* The grids take focus only programmatically (after a search), as a landing point for screen readers. */
.grid:focus { outline: none; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 1rem; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; display: flex; flex-direction: column; }
.card .media { position: relative; display: block; width: 100%; padding: 0; border: 0; border-radius: 0; background: #0003; cursor: pointer; aspect-ratio: 4 / 3; }
.card .media img, .card .media canvas { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; }
.card .media:hover canvas, .card .media:focus-visible canvas { filter: brightness(1.25) saturate(1.4); }
.card .media:focus-visible { outline-offset: -3px; }
.card .meta { padding: .5rem .75rem .75rem; font-size: .9rem; display: grid; gap: .15rem; }
.card .id { font-family: ui-monospace, monospace; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.card .score { font-weight: 700; }
.card .hint { color: var(--muted); font-size: .8rem; }
.settings { margin-top: 2rem; margin-bottom: 2rem; }
.settings summary { cursor: pointer; font-weight: 600; }
`;
