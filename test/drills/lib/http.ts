/** Minimal JSON-over-HTTP helpers for the drills (every call bounded by a timeout). */

export interface JsonResponse<T> {
  status: number;
  body: T | undefined;
}

export async function requestJson<T>(
  url: string,
  init: RequestInit = {},
  timeoutMs = 10_000,
): Promise<JsonResponse<T>> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  let body: T | undefined;
  try {
    body = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, body };
}

export function postJson<T>(
  url: string,
  payload: unknown,
  timeoutMs?: number,
): Promise<JsonResponse<T>> {
  return requestJson<T>(
    url,
    {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    },
    timeoutMs,
  );
}

/** Runs `fn` over `items` with at most `width` calls in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return out;
}
