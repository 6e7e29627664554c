/**
 * The public HTTP API, written once (docs/architecture.md §1): `createApp(services, options)` builds the Hono app
 * every deployable serves (the local Node server, the Worker gateway). One file per operation; this
 * file only wires tenant resolution and rate limits onto the one app shell (shell.ts: request ids,
 * the error body, request logs).
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { resolveLimits, type Limits } from "../limits.js";
import type { Services } from "../services.js";
import { guardVectorStore } from "../store/guard.js";
import { scopeTenant } from "../tenant-scope.js";
import { apiKeyTenantResolver, resolveTenantOrThrow, type TenantResolver } from "./auth.js";
import { validationHook, type ApiContext, type AppEnv } from "./context.js";
import { rateLimit, type RateLimitOptions } from "./rate-limit.js";
import { registerDocs } from "./docs.js";
import { registerHealth } from "./health.js";
import { registerImagesCreate } from "./images-create.js";
import { registerImagesDelete } from "./images-delete.js";
import { registerImagesFile } from "./images-file.js";
import { registerImagesGet } from "./images-get.js";
import { registerImagesList } from "./images-list.js";
import { registerImagesPatch } from "./images-patch.js";
import { registerImagesRegions } from "./images-regions.js";
import { registerImagesRetry } from "./images-retry.js";
import { registerMetadataFields } from "./metadata-fields.js";
import { registerPage, type PageFiles } from "./page.js";
import { registerRegionsGet } from "./regions-get.js";
import { registerRegionsMask } from "./regions-mask.js";
import { registerRegionsPreview } from "./regions-preview.js";
import { registerSearch } from "./search.js";
import { registerSearchSimilar } from "./search-similar.js";
import { applyShell, type ApiLogger } from "./shell.js";
import type { MetadataIndex } from "../store/qdrant/metadata.js";

export type { ApiLogger, RequestLogEvent } from "./shell.js";

export interface AppOptions {
  limits?: Partial<Limits>;
  /** Overrides `apiKeys`. */
  resolveTenant?: TenantResolver;
  /** API key → tenant. Empty or absent: everyone is tenant `default`. */
  apiKeys?: Record<string, string>;
  logger?: ApiLogger;
  /**
   * Per-caller token bucket on /v1 (off when absent or `perMinute` is 0). Callers are tenants when
   * requests carry API keys, else client addresses from `clientAddress` (the Node server's socket).
   */
  rateLimit?: RateLimitOptions & { clientAddress?: (c: Context<AppEnv>) => string | undefined };
  title?: string;
  version?: string;
  /**
   * The search page's files (src/lib/api/page.ts), read by the runtime: the Node server from disk, the
   * Worker from its bundle. Absent: no page at `/`.
   */
  page?: PageFiles;
  /** Declared metadata keys (`METADATA_INDEXES`), served at GET /v1/metadata/fields. */
  metadataFields?: readonly MetadataIndex[];
  /**
   * Runs on the app right after the shell, before tenant resolution and any route: the Node
   * entries' metrics (src/node/metrics) add their request timer and `GET /metrics` here.
   */
  instrument?: (app: OpenAPIHono<AppEnv>) => void;
}

export function createApp(backends: Services, options: AppOptions = {}): OpenAPIHono<AppEnv> {
  // A failing vector store answers 503, whatever the store (src/lib/store/guard.ts).
  const services: Services = { ...backends, vectors: guardVectorStore(backends.vectors) };
  const ctx: ApiContext = { services, limits: resolveLimits(options.limits) };
  const resolver = options.resolveTenant ?? apiKeyTenantResolver(options.apiKeys ?? {});
  // The shell first: request ids, the error body and request logs cover every route below.
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  applyShell(app, {
    ...(options.logger ? { logger: options.logger } : {}),
    annotate: (c) => (c.get("scope") ? { tenant: c.get("scope").tenant } : {}),
  });
  options.instrument?.(app);

  app.use("/v1/*", async (c, next) => {
    const tenant = await resolveTenantOrThrow(resolver, c.req.raw);
    c.set("scope", scopeTenant(services, tenant));
    await next();
  });
  if (options.rateLimit && options.rateLimit.perMinute > 0) {
    app.use(
      "/v1/*",
      rateLimit(options.rateLimit, callerKey(options, options.rateLimit.clientAddress)),
    );
  }

  registerOperations(app, ctx);
  registerMetadataFields(app, options.metadataFields ?? []);
  if (options.page) registerPage(app, options.page);
  registerDocs(app, {
    title: options.title ?? "region-search",
    version: options.version ?? "0.1.0",
  });
  return app;
}

/** Who a rate-limit bucket belongs to: the tenant with API keys, else the client address. */
function callerKey(
  options: AppOptions,
  clientAddress?: (c: Context<AppEnv>) => string | undefined,
) {
  const keyed =
    options.resolveTenant !== undefined || Object.keys(options.apiKeys ?? {}).length > 0;
  return (c: Context<AppEnv>): string =>
    keyed ? `tenant:${c.get("scope").tenant}` : `client:${clientAddress?.(c) ?? "unknown"}`;
}

function registerOperations(app: OpenAPIHono<AppEnv>, ctx: ApiContext): void {
  registerImagesCreate(app, ctx);
  registerImagesGet(app);
  registerImagesPatch(app, ctx);
  registerImagesList(app, ctx);
  registerImagesRetry(app, ctx);
  registerImagesRegions(app);
  registerImagesDelete(app);
  registerImagesFile(app);
  registerSearch(app, ctx);
  registerSearchSimilar(app, ctx);
  registerRegionsGet(app);
  registerRegionsMask(app, ctx);
  registerRegionsPreview(app, ctx);
  registerHealth(app, ctx);
}
