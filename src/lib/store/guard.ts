/**
 * The vector store as the API sees it: any failure that is not already an ApiError (an embedded
 * store's I/O error, a crashed native binding, a proxy's network error) becomes 503 `unavailable`
 * with the one error body, never a bare 500: the request was fine, the store was not. Adapters
 * that map their own failures (Qdrant: 503/429/502, src/lib/store/qdrant/errors.ts) pass through.
 */
import { ApiError } from "../errors.js";
import type { VectorStore } from "./types.js";

function unavailable(err: unknown): never {
  if (err instanceof ApiError) throw err;
  throw new ApiError("unavailable", "vector store failed; retry later", { cause: err });
}

const guarded =
  <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
  (...args: A): Promise<R> =>
    fn(...args).catch(unavailable);

export function guardVectorStore(store: VectorStore): VectorStore {
  return {
    upsert: guarded((tenant, points) => store.upsert(tenant, points)),
    deleteImage: guarded((tenant, imageId, keepIds) => store.deleteImage(tenant, imageId, keepIds)),
    replaceImage: guarded((tenant, imageId, points) => store.replaceImage(tenant, imageId, points)),
    search: guarded((tenant, vector, options) => store.search(tenant, vector, options)),
    get: guarded((tenant, id, withVector) => store.get(tenant, id, withVector)),
    listImage: guarded((tenant, imageId, withVector) =>
      store.listImage(tenant, imageId, withVector),
    ),
    count: guarded((tenant, filter) => store.count(tenant, filter)),
    setImageFields: guarded((tenant, imageId, fields) =>
      store.setImageFields(tenant, imageId, fields),
    ),
    ...(store.scan
      ? {
          scan: guarded(
            (tenant: string, options: Parameters<NonNullable<VectorStore["scan"]>>[1]) =>
              store.scan!(tenant, options),
          ),
        }
      : {}),
    ...(store.close ? { close: () => store.close!() } : {}),
  };
}
