/**
 * A fake Qdrant 1.19 for CI: an HTTP server on loopback that implements the endpoints the adapter
 * uses (semantics in qdrant-fake-engine.ts), validates every request — and its own every answer —
 * against Qdrant's OpenAPI document, records them, and can be told to fail (status + headers), to
 * hang, or to stall, so error mapping and retries are tested through the real client and a real
 * socket. Modelled from Qdrant 1.19's source (github.com/qdrant/qdrant, paths at v1.19.0):
 * - `wait`: without it a write is acknowledged once queued and applied later; with it, answered
 *   `completed` once applied, or `wait_timeout` when the request's `timeout` ran out first (then
 *   still applied: it is in the WAL) — lib/collection/src/collection/point_ops.rs
 *   `update_from_client`, UpdateStatus in lib/collection/src/operations/types.rs;
 * - a read whose `timeout` runs out: 408 "Timeout error: …" (CollectionError::Timeout in
 *   lib/collection/src/operations/types.rs → 408 in src/actix/helpers.rs);
 * - `ordering` is validated (spec) and recorded; with one replica per shard here it changes nothing
 *   (weak/medium/strong only choose which replica orders a write: replica_set/update.rs);
 * - error bodies `{status:{error}}` with Qdrant's wording: 404 "Not found: Collection `x` doesn't
 *   exist!", 400 "Wrong input: Vector dimension error: …", 400 "Format error in JSON body: …" for a
 *   body the schema refuses (src/actix/mod.rs), 409 "Wrong input: Collection `x` already exists!".
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeEngine, FakeError, idKey, type FakePoint } from "./qdrant-fake-engine.js";
import { info, ok, render, updateResult } from "./qdrant-fake-render.js";
import { qdrantSpec, type QdrantSpec } from "./qdrant-spec.js";

type Json = Record<string, unknown>;

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  operationId: string | null;
  body: unknown;
  /** Spec violations of the request; empty when it validated. */
  errors: string[];
  /** Spec violations of the fake's own answer (a bug in the fake, not the adapter). */
  responseErrors: string[];
  status: number;
  injected: boolean;
  /** Whether the client closed the connection before the fake answered (it gave up waiting). */
  clientGone: boolean;
  /** Bytes of the JSON answer (0 until answered). */
  responseBytes: number;
}

export interface Fault {
  /** Only requests of this operation (spec operationId); any when absent. */
  operationId?: string;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /**
   * Take this long before handling the request (Qdrant busy). With a `timeout` query parameter
   * shorter than the stall, Qdrant gives up at its timeout (see the file comment); without one it
   * works on after the client has gone. The request is then handled normally.
   */
  stallMs?: number;
  /** How many matching requests fail; default 1. */
  times?: number;
}

/** Operations that change points or indexes: they take `wait` and answer an UpdateResult. */
const UPDATE_OPS = new Set([
  "upsert_points",
  "delete_points",
  "batch_update",
  "create_field_index",
]);
/** A stall's wait; unref'd, so a stall left running never keeps the process alive after close(). */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class FakeQdrant {
  readonly engine = new FakeEngine();
  readonly requests: RecordedRequest[] = [];
  private faults: Fault[] = [];
  /** How long a `wait=false` write sits in the queue before it is applied. */
  queueDelayMs = 5;
  private readonly queue = new Set<() => void>();

  /** Queues a `wait=false` write; an update that fails in the queue fails silently, as in Qdrant. */
  private enqueue(apply: () => unknown): void {
    const run = () => {
      if (!this.queue.delete(run)) return;
      try {
        apply();
      } catch {
        // nobody waits for it
      }
    };
    this.queue.add(run);
    setTimeout(run, this.queueDelayMs).unref();
  }

  /** Applies every queued `wait=false` write now. */
  flushQueue(): void {
    for (const run of [...this.queue]) run();
  }
  private readonly spec: QdrantSpec = qdrantSpec();

  private constructor(
    private readonly server: Server,
    readonly apiKey?: string,
  ) {}

  static async start(options: { apiKey?: string } = {}): Promise<FakeQdrant> {
    const holder: { fake?: FakeQdrant } = {};
    const server = createServer((req, res) => void holder.fake!.handle(req, res));
    const fake = (holder.fake = new FakeQdrant(server, options.apiKey));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  fail(fault: Fault): void {
    this.faults.push({ times: 1, ...fault });
  }

  clearFaults(): void {
    this.faults = [];
  }

  /** Closes the server and every open socket, hung requests included. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    const url = new URL(req.url ?? "/", "http://fake");
    const method = req.method ?? "GET";
    let body: unknown;
    const rec: RecordedRequest = {
      method,
      path: url.pathname,
      query: url.search,
      operationId: null,
      body: undefined,
      errors: [],
      responseErrors: [],
      status: 0,
      injected: false,
      clientGone: false,
      responseBytes: 0,
    };
    res.once("close", () => (rec.clientGone ||= !res.writableEnded));
    this.requests.push(rec);
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      rec.errors.push("body is not JSON");
    }
    rec.body = body;
    const check = this.spec.checkRequest(method, url, body, text.length > 0);
    rec.operationId = check.operationId;
    rec.errors.push(...check.errors);

    const fault = this.faults.find((f) => !f.operationId || f.operationId === rec.operationId);
    let timedOut = false;
    if (fault?.stallMs !== undefined) {
      if (--fault.times! <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      const timeoutS = Number(url.searchParams.get("timeout")) || undefined;
      timedOut = timeoutS !== undefined && timeoutS * 1000 < fault.stallMs;
      await sleep(timedOut ? timeoutS! * 1000 : fault.stallMs);
      if (timedOut && !UPDATE_OPS.has(rec.operationId ?? ""))
        return this.send(res, rec, 408, {
          status: {
            error: `Timeout error: Operation '${rec.operationId}' timed out after ${timeoutS}s`,
          },
          time: timeoutS,
        });
    } else if (fault) {
      if (--fault.times! <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      rec.injected = true;
      if (fault.hang) return; // the client's timeout (or close()) ends it
      return this.send(
        res,
        rec,
        fault.status ?? 500,
        fault.body ?? { status: { error: "injected failure" }, time: 0 },
        fault.headers,
      );
    }
    if (this.apiKey && req.headers["api-key"] !== this.apiKey)
      return this.send(res, rec, 401, { status: { error: "Unauthorized" }, time: 0 });
    if (rec.errors.length)
      return this.send(res, rec, rec.operationId ? 400 : 404, {
        status: { error: `Format error in JSON body: ${rec.errors.join("; ")}` },
        time: 0,
      });
    try {
      const op = rec.operationId!;
      const wait = url.searchParams.get("wait") === "true";
      if (UPDATE_OPS.has(op) && !wait) {
        // Acknowledged once queued; applied a moment later (reads before then do not see it).
        const name = decodeURIComponent(url.pathname.split("/")[2] ?? "");
        this.engine.resolve(name);
        this.enqueue(() => this.route(op, url, (body ?? {}) as Json));
        return this.send(res, rec, 200, ok(updateResult(op, body, "acknowledged")));
      }
      const result = this.route(op, url, (body ?? {}) as Json) as { result: unknown };
      if (timedOut) result.result = updateResult(op, body, "wait_timeout");
      this.send(res, rec, 200, result);
    } catch (err) {
      const status = err instanceof FakeError ? err.status : 500;
      this.send(res, rec, status, {
        status: { error: err instanceof Error ? err.message : String(err) },
        time: 0,
      });
    }
  }

  private send(
    res: ServerResponse,
    rec: RecordedRequest,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    rec.status = status;
    if (rec.operationId && !rec.injected)
      rec.responseErrors.push(...this.spec.checkResponse(rec.operationId, status, body));
    const text = JSON.stringify(body);
    rec.responseBytes = Buffer.byteLength(text);
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(text);
  }

  private route(op: string, url: URL, b: Json): unknown {
    const e = this.engine;
    const name = decodeURIComponent(url.pathname.split("/")[2] ?? "");
    const c = () => e.resolve(name);
    switch (op) {
      case "root":
        return { title: "qdrant - vector search engine (fake)", version: "1.19.0", commit: null };
      case "get_collections":
        return ok({ collections: [...e.collections.keys()].map((n) => ({ name: n })) });
      case "collection_exists":
        return ok({ exists: e.collections.has(name) || e.aliases.has(name) });
      case "get_collection":
        return ok(info(c()));
      case "create_collection":
        e.create(name, b);
        return ok(true);
      case "delete_collection":
        return ok(e.drop(name));
      case "create_field_index": {
        const schema = b.field_schema as string | Json;
        c().indexes[String(b.field_name)] =
          typeof schema === "string"
            ? { data_type: schema }
            : { data_type: String(schema.type), params: schema };
        return ok({ operation_id: 0, status: "completed" });
      }
      case "upsert_points": {
        const batch = b.batch as
          { ids: unknown[]; vectors: unknown; payloads?: Json[] } | undefined;
        const points = batch
          ? batch.ids.map((id, i) => ({
              id,
              vector: (batch.vectors as unknown[])[i],
              payload: batch.payloads?.[i],
            }))
          : (b.points as Json[]);
        e.upsert(c(), points, b.update_filter as Json | undefined);
        return ok({ operation_id: 0, status: "completed" });
      }
      case "set_payload":
        e.setPayload(c(), b);
        return ok({ operation_id: 0, status: "completed" });
      case "delete_points":
        e.deletePoints(c(), b);
        return ok({ operation_id: 0, status: "completed" });
      case "batch_update": {
        // Applied in order, as Qdrant does; this fake supports the operations the adapter sends.
        const col = c();
        const results = (b.operations as Json[]).map((operation) => {
          if (operation.upsert)
            e.upsert(
              col,
              (operation.upsert as Json).points as Json[],
              (operation.upsert as Json).update_filter as Json | undefined,
            );
          else if (operation.delete) e.deletePoints(col, operation.delete as Json);
          else
            throw new FakeError(
              501,
              `fake qdrant: batch operation ${Object.keys(operation).join(",")} is not implemented`,
            );
          return { operation_id: 0, status: "completed" };
        });
        return ok(results);
      }
      case "get_points": {
        const col = c();
        const found = (b.ids as Array<string | number>)
          .map((id) => col.points.get(idKey(id)))
          .filter((p): p is FakePoint => Boolean(p));
        return ok(found.map((p) => render(p, b.with_payload, b.with_vector)));
      }
      case "scroll_points": {
        const all = e.select(c(), b.filter as Json);
        // Qdrant's offset is inclusive: the first point whose id is at or after it (none: an empty page).
        const at =
          b.offset == null ? 0 : all.findIndex((p) => idKey(p.id) >= idKey(b.offset as string));
        const start = at < 0 ? all.length : at;
        const limit = (b.limit as number | undefined) ?? 10;
        const page = all.slice(start, start + limit);
        return ok({
          points: page.map((p) => render(p, b.with_payload, b.with_vector)),
          next_page_offset: all[start + limit]?.id ?? null,
        });
      }
      case "count_points":
        return ok({ count: e.select(c(), b.filter as Json).length });
      case "query_points": {
        const offset = (b.offset as number | undefined) ?? 0;
        const hits = e.rank(c(), b).slice(offset, offset + ((b.limit as number | undefined) ?? 10));
        return ok({ points: hits.map((p) => render(p, b.with_payload ?? false, b.with_vector)) });
      }
      case "query_points_groups":
        return ok({
          groups: e.groups(c(), b).map((g) => ({
            id: g.id,
            hits: g.hits.map((p) => render(p, b.with_payload ?? false, b.with_vector)),
          })),
        });
      case "collection_cluster_info": {
        // Peer 1 answers: its replicas are local, the others' remote (states: all Active here).
        const shards = c().shards;
        const replicas = shards.flatMap((peers, shard_id) =>
          peers.map((peer) => ({ shard_id, peer })),
        );
        return ok({
          peer_id: 1,
          shard_count: shards.length,
          local_shards: replicas
            .filter((r) => r.peer === 1)
            .map((r) => ({ shard_id: r.shard_id, points_count: 0, state: "Active" })),
          remote_shards: replicas
            .filter((r) => r.peer !== 1)
            .map((r) => ({ shard_id: r.shard_id, peer_id: r.peer, state: "Active" })),
          shard_transfers: [],
        });
      }
      case "update_aliases":
        e.updateAliases(b.actions as Json[]);
        return ok(true);
      case "get_collections_aliases":
        return ok({
          aliases: [...e.aliases].map(([alias_name, collection_name]) => ({
            alias_name,
            collection_name,
          })),
        });
      case "get_collection_aliases": {
        const target = c().name;
        return ok({
          aliases: [...e.aliases]
            .filter(([, col]) => col === target)
            .map(([alias_name, collection_name]) => ({ alias_name, collection_name })),
        });
      }
      default:
        throw new FakeError(501, `fake qdrant: ${op} is not implemented`);
    }
  }
}
