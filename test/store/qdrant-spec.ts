/**
 * Contract checks against Qdrant's published OpenAPI document (docs/architecture.md §2). The spec is read from
 * `third_party/qdrant/openapi-1.19.0.json` at test time (vendored byte-for-byte, with its licence and
 * provenance: third_party/qdrant/PROVENANCE.md).
 *
 * OpenAPI 3.0 schemas are not quite JSON Schema, so they are translated before Ajv compiles them:
 * - `nullable: true` → `null` added to the type (a bare `{nullable: true}` branch of an `anyOf`
 *   becomes `{type: "null"}`; left as is it would be an empty schema that accepts anything);
 * - objects that list `properties` get `additionalProperties: false` unless they say otherwise, so a
 *   misspelt field (`is_tennant`) fails the check instead of being silently ignored by the server;
 * - Qdrant's numeric formats (`uint64`, `float`, …) become format checks.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const SPEC_PATH = path.resolve(REPO_ROOT, "third_party/qdrant/openapi-1.19.0.json");

type Json = Record<string, unknown>;
const METHODS = ["get", "put", "post", "delete", "patch"] as const;
const SPEC_ID = "qdrant-openapi";

/** OpenAPI 3.0 schema → JSON Schema, recursively (see the file comment). */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    // `example(s)` hold sample data, not schemas; `properties` maps names to schemas (never a schema itself).
    if (k === "example" || k === "examples") continue;
    out[k] =
      k === "properties"
        ? Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, toJsonSchema(s)]))
        : toJsonSchema(v);
  }
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === "string") out.type = [out.type, "null"];
    else if (
      Object.keys(out).every((k) => k === "description" || k === "default" || k === "deprecated")
    )
      out.type = "null";
    else return { anyOf: [out, { type: "null" }] };
  }
  if (out.properties && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const UINT = (x: number) => Number.isInteger(x) && x >= 0;
const NUMERIC_FORMATS: Record<string, (x: number) => boolean> = {
  uint: UINT,
  uint8: (x) => UINT(x) && x < 2 ** 8,
  uint32: (x) => UINT(x) && x < 2 ** 32,
  uint64: UINT,
  int64: Number.isInteger,
  float: (x) => Number.isFinite(x) && Math.abs(x) <= 3.4028234663852886e38,
  double: Number.isFinite,
};

export interface Operation {
  operationId: string;
  method: string;
  template: string;
  regex: RegExp;
  literalSegments: number;
  queryParams: Map<string, { schema: unknown; required: boolean }>;
  /** Raw (OpenAPI) schemas, compiled on first use: compiling all 69 operations up front takes seconds. */
  body?: unknown;
  response200?: unknown;
  responseError?: unknown;
}

export interface RequestCheck {
  operationId: string | null;
  errors: string[];
}

/** The vendored document, or an error that says exactly what is missing and where it comes from. */
function readSpec(specPath: string): string {
  try {
    return readFileSync(specPath, "utf8");
  } catch (err) {
    throw new Error(
      `Qdrant's OpenAPI document is missing: ${path.relative(REPO_ROOT, specPath)} ` +
        `(vendored with the repository; third_party/qdrant/PROVENANCE.md says where it comes from). ` +
        `The Qdrant contract tests need it; restore it with git checkout -- ${path.relative(REPO_ROOT, specPath)}`,
      { cause: err },
    );
  }
}

let shared: QdrantSpec | undefined;

/** One parsed spec per test file (parsing is the slow part). */
export function qdrantSpec(): QdrantSpec {
  return (shared ??= new QdrantSpec());
}

export class QdrantSpec {
  readonly operations: Operation[] = [];
  private readonly ajv: Ajv;

  constructor(specPath = SPEC_PATH) {
    const spec = JSON.parse(readSpec(specPath)) as Json & {
      paths: Record<string, Json>;
      components: { schemas: Json };
    };
    this.ajv = new Ajv({ strict: false, allErrors: false });
    (addFormatsModule as unknown as (ajv: Ajv) => void)(this.ajv);
    for (const [name, check] of Object.entries(NUMERIC_FORMATS))
      this.ajv.addFormat(name, { type: "number", validate: check });
    this.ajv.addFormat("binary", true);
    this.ajv.addFormat("partial-date-time", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?$/);
    this.ajv.addSchema({
      $id: SPEC_ID,
      components: { schemas: toJsonSchema(spec.components.schemas) },
    });
    for (const [template, item] of Object.entries(spec.paths)) {
      for (const method of METHODS) {
        const op = item[method] as Json | undefined;
        if (op) this.operations.push(this.operation(template, method, op));
      }
    }
    // Literal paths first: `POST /collections/aliases` must not be read as a collection named "aliases".
    this.operations.sort((a, b) => b.literalSegments - a.literalSegments);
  }

  private readonly compiled = new Map<unknown, ValidateFunction>();

  private compile(schema: unknown): ValidateFunction {
    const hit = this.compiled.get(schema);
    if (hit) return hit;
    const check = this.compileNew(schema);
    this.compiled.set(schema, check);
    return check;
  }

  private compileNew(schema: unknown): ValidateFunction {
    // `$ref: "#/components/..."` is relative to the spec document, added above under SPEC_ID.
    const rebased = JSON.parse(
      JSON.stringify(toJsonSchema(schema)).replaceAll('"#/components/', `"${SPEC_ID}#/components/`),
    );
    return this.ajv.compile(rebased as object);
  }

  private operation(template: string, method: string, op: Json): Operation {
    const segments = template.split("/").filter(Boolean);
    const regex = new RegExp(
      `^/${segments.map((s) => (s.startsWith("{") ? "([^/]+)" : s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))).join("/")}$`,
    );
    const queryParams = new Map<string, { schema: unknown; required: boolean }>();
    for (const p of (op.parameters ?? []) as {
      name: string;
      in: string;
      schema: unknown;
      required?: boolean;
    }[]) {
      if (p.in === "query")
        queryParams.set(p.name, { schema: p.schema, required: Boolean(p.required) });
    }
    const content = (x: unknown) =>
      (x as { content?: { "application/json"?: { schema?: unknown } } } | undefined)?.content?.[
        "application/json"
      ]?.schema;
    const responses = (op.responses ?? {}) as Json;
    const bodySchema = content(op.requestBody);
    const okSchema = content(responses["200"]);
    const errSchema = content(responses["4XX"] ?? responses.default);
    return {
      operationId: String(op.operationId),
      method: method.toUpperCase(),
      template,
      regex: template === "/" ? /^\/$/ : regex,
      literalSegments: segments.filter((s) => !s.startsWith("{")).length,
      queryParams,
      body: bodySchema,
      response200: okSchema,
      responseError: errSchema,
    };
  }

  find(method: string, pathname: string): Operation | undefined {
    return this.operations.find((o) => o.method === method && o.regex.test(pathname));
  }

  /** Method + path must name an operation; query parameters and the JSON body must match its schemas. */
  checkRequest(method: string, url: URL, body: unknown, hasBody: boolean): RequestCheck {
    const op = this.find(method, url.pathname);
    if (!op)
      return { operationId: null, errors: [`no operation ${method} ${url.pathname} in the spec`] };
    const errors: string[] = [];
    for (const [name, raw] of url.searchParams) {
      const param = op.queryParams.get(name);
      if (!param) {
        errors.push(`query parameter ${name} is not defined for ${op.operationId}`);
        continue;
      }
      const value =
        raw === "true"
          ? true
          : raw === "false"
            ? false
            : /^-?\d+(\.\d+)?$/.test(raw)
              ? Number(raw)
              : raw;
      const check = this.compile(param.schema);
      if (!check(value)) errors.push(`query ${name}=${raw}: ${this.ajv.errorsText(check.errors)}`);
    }
    for (const [name, p] of op.queryParams)
      if (p.required && !url.searchParams.has(name)) errors.push(`missing query parameter ${name}`);
    if (op.body) {
      const check = this.compile(op.body);
      if (!hasBody) errors.push(`${op.operationId} needs a JSON body`);
      else if (!check(body))
        errors.push(`body: ${this.ajv.errorsText(check.errors, { dataVar: "body" })}`);
    } else if (hasBody) {
      errors.push(`${op.operationId} takes no body`);
    }
    return { operationId: op.operationId, errors };
  }

  /** The fake's answers are checked too, so the adapter is tested against responses Qdrant could send. */
  checkResponse(operationId: string, status: number, body: unknown): string[] {
    const op = this.operations.find((o) => o.operationId === operationId);
    const schema = status === 200 ? op?.response200 : op?.responseError;
    if (!schema) return [];
    const check = this.compile(schema);
    return check(body)
      ? []
      : [`response ${status}: ${this.ajv.errorsText(check.errors, { dataVar: "response" })}`];
  }
}
