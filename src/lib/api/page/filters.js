// @ts-check
/**
 * Metadata filters on the search page (browser): one input per key the operator declared
 * (`METADATA_INDEXES`, served by GET /v1/metadata/fields), turned into a filter in Qdrant's syntax
 * for search and similar search. Text: one value, or several separated by commas (any of them);
 * numbers and dates: from / to; booleans: yes / no. Empty inputs filter nothing.
 */
import { api } from "./client.js";
import { byId, el } from "./dom.js";

/** @typedef {{ key: string, type: "keyword" | "integer" | "float" | "bool" | "datetime" }} Field */

/** @type {Field[]} */
let fields = [];
let loaded = false;

/** Whether the declared fields were loaded (search loads them once if not). */
export function filtersLoaded() {
  return loaded;
}

/** @param {Field} f @param {string} bound @param {string} label */
function boundInput(f, bound, label) {
  const type = f.type === "datetime" ? "date" : "number";
  return el("input", {
    type,
    "data-key": f.key,
    "data-bound": bound,
    "aria-label": `${f.key} ${label}`,
    placeholder: label,
    ...(f.type === "integer" ? { step: "1" } : type === "number" ? { step: "any" } : {}),
  });
}

/** @param {Field} f */
function fieldRow(f) {
  const id = `filter-${f.key}`;
  /** @type {HTMLElement[]} */
  let controls;
  if (f.type === "keyword")
    controls = [el("input", { id, type: "text", "data-key": f.key, placeholder: "any of: a, b" })];
  else if (f.type === "bool")
    controls = [
      el("select", { id, "data-key": f.key }, [
        el("option", { value: "", text: "any" }),
        el("option", { value: "true", text: "yes" }),
        el("option", { value: "false", text: "no" }),
      ]),
    ];
  else controls = [boundInput(f, "gte", "from"), boundInput(f, "lte", "to")];
  return el("div", { class: "filter", "data-field": f.key }, [
    el("label", { for: controls[0]?.id || "", text: f.key }),
    ...controls,
  ]);
}

/** Loads the declared fields and shows their inputs (the fieldset stays hidden when there are none). */
export async function wireFilters() {
  const box = byId("filters", HTMLElement);
  try {
    const res = await api("/v1/metadata/fields");
    fields = /** @type {{ fields: Field[] }} */ (await res.json()).fields;
    loaded = true;
  } catch {
    fields = []; // no key yet, or an older server: search works without filters
  }
  box.querySelectorAll(".filter").forEach((n) => n.remove());
  box.append(...fields.map(fieldRow));
  box.hidden = fields.length === 0;
}

/** @param {Field} f @param {string} value */
function boundValue(f, value, end = false) {
  if (f.type !== "datetime") return Number(value);
  return `${value}T${end ? "23:59:59.999" : "00:00:00.000"}Z`;
}

/**
 * The filter the inputs describe, or undefined when they are all empty.
 * @returns {{ must: object[] } | undefined}
 */
export function currentFilter() {
  const box = byId("filters", HTMLElement);
  /** @type {object[]} */
  const must = [];
  for (const f of fields) {
    const inputs = /** @type {NodeListOf<HTMLInputElement | HTMLSelectElement>} */ (
      box.querySelectorAll(`[data-key="${f.key}"]`)
    );
    if (f.type === "keyword") {
      const values = (inputs[0]?.value ?? "")
        .split(",")
        .map((v) => v.trim())
        .filter(Boolean);
      if (values.length === 1) must.push({ key: f.key, match: { value: values[0] } });
      else if (values.length > 1) must.push({ key: f.key, match: { any: values } });
    } else if (f.type === "bool") {
      const v = inputs[0]?.value;
      if (v) must.push({ key: f.key, match: { value: v === "true" } });
    } else {
      /** @type {Record<string, number | string>} */
      const range = {};
      for (const input of inputs) {
        const bound = /** @type {HTMLElement} */ (input).dataset.bound;
        if (input.value && bound) range[bound] = boundValue(f, input.value, bound === "lte");
      }
      if (Object.keys(range).length) must.push({ key: f.key, range });
    }
  }
  return must.length ? { must } : undefined;
}
