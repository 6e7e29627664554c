/** SSRF-safe fetching of images by URL: the policy and the shared fetch loop (runtimes supply one hop). */
export { createUrlFetcher, type FetchHop, type UrlFetchOptions } from "./fetch-image.js";
export { checkUrl, DEFAULT_URL_POLICY, isPublicAddress, MAX_URL_CHARS, privateResolutionError, type UrlPolicy } from "./policy.js";
export { urlFetchEnvFields, urlFetchSettings, urlFetchSwitchFields, type UrlFetchSettings } from "./env.js";
