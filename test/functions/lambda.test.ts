import { describe, expect, it } from "vitest";
import { lambdaHandler } from "../../src/node/functions/serve.js";
import { makeFunctions } from "./helpers.js";

/** A minimal API Gateway HTTP API (v2) event. */
const event = (path: string, method = "GET") => ({
  version: "2.0",
  routeKey: "$default",
  rawPath: path,
  rawQueryString: "",
  headers: { host: "fn.example.com" },
  requestContext: {
    http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
    domainName: "fn.example.com",
    requestId: "r1",
    routeKey: "$default",
    stage: "$default",
    timeEpoch: 0,
  },
  isBase64Encoded: false,
});

describe("functions on AWS Lambda (hono/aws-lambda)", () => {
  it("serves the same app through the exported handler, signature check included", async () => {
    const fns = await makeFunctions();
    let built = 0;
    const handler = lambdaHandler(async () => (built++, { app: fns.ingest }));
    const health = (await handler(event("/healthz") as never, {} as never)) as {
      statusCode: number;
      body: string;
    };
    expect(health.statusCode).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: "ok", function: "ingest" });
    const unsigned = (await handler(event("/v1/jobs/ingest", "POST") as never, {} as never)) as {
      statusCode: number;
      body: string;
    };
    expect(unsigned.statusCode).toBe(401);
    expect(JSON.parse(unsigned.body).error.code).toBe("unauthorized");
    expect(built).toBe(1);
    await fns.close();
  });
});
