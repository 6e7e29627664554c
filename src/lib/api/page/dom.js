// @ts-check
/** DOM helpers of the search page (browser): element lookup and creation, status lines, error text. */
import { ApiError } from "./client.js";

/**
 * The element of index.html with this id; throws unless it is a `type`.
 * @template {HTMLElement} T
 * @param {string} id
 * @param {{ new (): T, prototype: T }} type
 * @returns {T}
 */
export function byId(id, type) {
  const node = document.getElementById(id);
  if (!(node instanceof type))
    throw new Error(`the page has no element #${id} of the expected kind`);
  return node;
}

/**
 * A new element with attributes (`text` sets its text instead) and children.
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string)[]} [children]
 * @returns {HTMLElementTagNameMap[K]}
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/**
 * @param {HTMLElement} node
 * @param {string} text
 * @param {boolean} [isError]
 */
export function setStatus(node, text, isError) {
  node.textContent = text;
  node.classList.toggle("error", !!isError);
}

/**
 * What to tell the user about a failed call; a 401 also opens the API key form.
 * @param {unknown} err
 */
export function explain(err) {
  if (err instanceof ApiError && err.status === 401) {
    const details = byId("api-key", HTMLInputElement).closest("details");
    if (details) details.open = true;
    return "This server needs an API key: enter it under “API key” below.";
  }
  return (err instanceof Error && err.message) || String(err);
}
