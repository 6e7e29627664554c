/**
 * One fixed-rate run against one route with autocannon: `rate` requests per second in all for
 * `durationS` seconds (or `amount` requests), each request built by `next()` (varied captions,
 * fresh image ids). Latency percentiles come from the raw response times: autocannon's own
 * coordinated-omission correction is switched off, and the achieved rate is reported next to the
 * target so a server that falls behind shows up as a shortfall, not as hidden queueing.
 */
import autocannon from "autocannon";
import { percentile } from "../../bench/stats.js";

export interface RouteRequest {
  method: "GET" | "POST";
  path: string;
  body?: Buffer;
  headers?: Record<string, string>;
}

export interface RouteRunOptions {
  name: string;
  baseUrl: string;
  rate: number;
  durationS: number;
  /** Stop after this many requests (bounded ingest). */
  amount?: number;
  timeoutS?: number;
  next: () => RouteRequest;
}

export interface RouteFigures {
  route: string;
  targetRate: number;
  durationS: number;
  requests: number;
  achievedRate: number;
  ok: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  errors: number;
  errorRate: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

export async function runRoute(o: RouteRunOptions): Promise<RouteFigures> {
  const times: number[] = [];
  let instance: autocannon.Instance | undefined;
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: o.baseUrl,
        overallRate: o.rate,
        // Enough connections that a few slow answers do not cap the rate (each connection is closed-loop).
        connections: Math.max(1, Math.min(64, Math.ceil(o.rate / 2))),
        duration: o.durationS,
        ...(o.amount ? { amount: o.amount } : {}),
        timeout: o.timeoutS ?? 10,
        ignoreCoordinatedOmission: true,
        requests: [{ setupRequest: (req) => ({ ...req, ...o.next() }) }],
      },
      (err: unknown, result: autocannon.Result) =>
        err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(result),
    );
  });
  // The instance emits (client, statusCode, bytes, ms); @types/autocannon drops the client argument.
  (instance as NodeJS.EventEmitter).on(
    "response",
    (_client: unknown, statusCode: number, _bytes: number, ms: number) => {
      if (statusCode >= 200 && statusCode < 300) times.push(ms);
    },
  );
  const result = await done;
  const requests =
    result["1xx"] + result["2xx"] + result["3xx"] + result["4xx"] + result["5xx"] + result.errors;
  const errors = result.non2xx + result.errors;
  const statusCodes = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]),
  );
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    route: o.name,
    targetRate: o.rate,
    durationS: round(result.duration),
    requests,
    achievedRate: round(result["2xx"] / result.duration),
    ok: result["2xx"],
    errors,
    errorRate: requests === 0 ? 0 : errors / requests,
    timeouts: result.timeouts,
    statusCodes,
    latencyMs: {
      p50: round(percentile(times, 50)),
      p95: round(percentile(times, 95)),
      p99: round(percentile(times, 99)),
      max: round(Math.max(0, ...times)),
    },
  };
}
