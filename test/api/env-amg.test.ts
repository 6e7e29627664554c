/** AMG_OVERRIDES: JSON AMG keys over the model pack's, parsed once at the entry (server and functions). */
import { describe, expect, it } from "vitest";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { modelOptions } from "../../src/node/compose.js";
import { parseEnv } from "../../src/node/server/env.js";

const FN = { WEBHOOK_SECRET: "whsec_dGVzdA==" };

describe("AMG_OVERRIDES", () => {
  it("unset or blank → the pack's own settings (no overrides reach the extractor)", () => {
    expect(modelOptions(parseEnv({})).extractor).not.toHaveProperty("amg");
    expect(modelOptions(parseEnv({ AMG_OVERRIDES: "  " })).extractor).not.toHaveProperty("amg");
  });

  it("a JSON object of AMG keys reaches the extractor options, limits kept", () => {
    const options = modelOptions(
      parseEnv({ AMG_OVERRIDES: '{"cropNLayers":0,"pointsPerSide":8}', MAX_SIDE: "4000" }),
    );
    expect(options.extractor).toEqual({
      limits: expect.objectContaining({ maxSide: 4000 }),
      amg: { cropNLayers: 0, pointsPerSide: 8 },
    });
    expect(parseFunctionEnv({ ...FN, AMG_OVERRIDES: '{"cropNLayers":0}' }).AMG_OVERRIDES).toEqual({
      cropNLayers: 0,
    });
  });

  it("refuses what is not valid JSON, unknown keys and out-of-range values, naming the variable", () => {
    expect(() => parseEnv({ AMG_OVERRIDES: "cropNLayers=0" })).toThrow(
      /AMG_OVERRIDES: expected a JSON object/,
    );
    expect(() => parseEnv({ AMG_OVERRIDES: '{"cropLayers":0}' })).toThrow(
      /AMG_OVERRIDES: .*"cropLayers"/,
    );
    expect(() => parseEnv({ AMG_OVERRIDES: '{"predIouThresh":2}' })).toThrow(
      /AMG_OVERRIDES: .*"predIouThresh"/,
    );
    expect(() => parseEnv({ AMG_OVERRIDES: "[1]" })).toThrow(/AMG_OVERRIDES/);
    expect(() => parseFunctionEnv({ ...FN, AMG_OVERRIDES: '{"cropNLayers":9}' })).toThrow(
      /AMG_OVERRIDES/,
    );
  });
});
