/**
 * /docs shows an example for every route: each operation's JSON request body and success response
 * has one (its own or its component's), and every example is valid against its own schema, so the
 * reference never shows a body the API would refuse or never send.
 */
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { rleArea, rleToBoxXywh } from "../../src/lib/masks/rle.js";
import { REGION_EXAMPLE } from "../../src/lib/api/schemas.js";
import { makeHarness } from "./harness.js";

type Json = Record<string, unknown>;
interface Doc {
  paths: Record<string, Record<string, Json>>;
  components: { schemas: Record<string, Json & { example?: unknown }> };
}

async function openapi(): Promise<Doc> {
  const h = await makeHarness();
  try {
    return (await (await h.app.request("/openapi.json")).json()) as Doc;
  } finally {
    await h.close();
  }
}

/** A schema's example, following one $ref to a component. */
function exampleOf(doc: Doc, schema: Json | undefined): unknown {
  if (!schema) return undefined;
  if (schema.example !== undefined) return schema.example;
  const ref = typeof schema.$ref === "string" ? schema.$ref.split("/").pop()! : undefined;
  const component = ref ? doc.components.schemas[ref] : undefined;
  if (component?.example !== undefined) return component.example;
  // An object whose every property has an example is shown whole by Scalar.
  const props = (component ?? schema).properties as Record<string, Json> | undefined;
  if (props && Object.values(props).every((p) => exampleOf(doc, p) !== undefined))
    return Object.fromEntries(Object.entries(props).map(([k, p]) => [k, exampleOf(doc, p)]));
  return undefined;
}

describe("OpenAPI examples", () => {
  it("every operation has examples for its parameters, JSON body and success response", async () => {
    const doc = await openapi();
    const missing: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const name = `${method.toUpperCase()} ${path}`;
        for (const p of (op.parameters ?? []) as Json[])
          if (exampleOf(doc, p.schema as Json) === undefined && p.example === undefined)
            missing.push(`${name} parameter ${String(p.name)}`);
        const body = (op.requestBody as Json | undefined)?.content as
          Record<string, { schema: Json }> | undefined;
        if (
          body?.["application/json"] &&
          exampleOf(doc, body["application/json"].schema) === undefined
        )
          missing.push(`${name} request body`);
        const responses = op.responses as Record<
          string,
          { content?: Record<string, { schema: Json }> }
        >;
        const ok = Object.entries(responses).find(([s]) => s.startsWith("2"))?.[1];
        const json = ok?.content?.["application/json"];
        if (json && exampleOf(doc, json.schema) === undefined) missing.push(`${name} response`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("every component example is valid against its schema", async () => {
    const doc = await openapi();
    const ajv = new Ajv2020({ strict: false });
    ajv.addSchema({ $id: "doc", components: doc.components });
    const checked: string[] = [];
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      if (schema.example === undefined) continue;
      const validate = ajv.compile({ $ref: `doc#/components/schemas/${name}` });
      expect(validate(schema.example), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
      checked.push(name);
    }
    expect(checked).toEqual(
      expect.arrayContaining([
        "Image",
        "Region",
        "SearchResponse",
        "Mask",
        "Error",
        "Health",
        "ImageAccepted",
        "RegionList",
      ]),
    );
  });

  it("the example mask is a real COCO RLE agreeing with the example's bbox and area", () => {
    expect(rleArea(REGION_EXAMPLE.mask)).toBe(REGION_EXAMPLE.area);
    expect(rleToBoxXywh(REGION_EXAMPLE.mask)).toEqual(REGION_EXAMPLE.bbox);
  });
});
