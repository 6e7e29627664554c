/** The metrics endpoint's env field, spread into the Node entries' schemas (server, functions). */
import { z } from "zod";

export const metricsEnvFields = {
  /**
   * Bearer token of `GET /metrics` (Prometheus text format). Unset: no metrics route (404). At
   * least 16 characters: the endpoint shows traffic and failure rates.
   */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
};
