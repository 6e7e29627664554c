/**
 * Outgoing signed calls between our own deployables (gateway → ingest/query functions, functions →
 * gateway): a JSON POST signed per Standard Webhooks, with a timeout. Runs on fetch (Workers, Node).
 */
import { signedHeaders } from "./standard-webhooks.js";

export interface SignedClientOptions {
  /** Base URL of the callee, e.g. `https://query.example.com`. */
  baseUrl: string;
  /** `whsec_…` secrets; the first signs. */
  secrets: readonly string[];
  timeoutMs?: number;
  /** Injected fetch (a Worker service binding's `fetch`, or tests). */
  fetch?: typeof fetch;
}

export class SignedCallError extends Error {
  override readonly name = "SignedCallError";
  constructor(
    readonly status: number,
    message: string,
    readonly body?: string,
  ) {
    super(message);
  }
}

export class SignedClient {
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: SignedClientOptions) {
    this.fetchFn = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /**
   * POSTs `payload` as JSON to `path`. `id` is the Standard Webhooks message id: retries of one
   * logical message must pass the same id so the callee can deduplicate.
   */
  async post(path: string, payload: unknown, id?: string): Promise<Response> {
    const body = JSON.stringify(payload);
    const headers = await signedHeaders(this.options.secrets, body, id === undefined ? {} : { id });
    // Concatenated, not `new URL(path, base)`: a base with a path (`…/internal`) must keep it.
    const url = this.options.baseUrl.replace(/\/+$/, "") + path;
    return this.fetchFn(url, {
      method: "POST",
      body,
      headers: { ...headers, "content-type": "application/json" },
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
    });
  }

  /** `post`, then the JSON answer; a non-2xx answer throws `SignedCallError` with its status. */
  async postJson<T>(path: string, payload: unknown, id?: string): Promise<T> {
    const res = await this.post(path, payload, id);
    if (!res.ok) throw await callError(res, path);
    return (await res.json()) as T;
  }

  /** `post`, then the binary answer (PNG renders). */
  async postBytes(path: string, payload: unknown): Promise<Uint8Array> {
    const res = await this.post(path, payload);
    if (!res.ok) throw await callError(res, path);
    return new Uint8Array(await res.arrayBuffer());
  }
}

async function callError(res: Response, path: string): Promise<SignedCallError> {
  const text = await res.text().catch(() => "");
  return new SignedCallError(res.status, `${path} answered ${res.status}`, text.slice(0, 2000));
}
