/** ORT_*: onnxruntime session options, parsed once at the entry (server and functions). */
import { describe, expect, it } from "vitest";
import { parseFunctionEnv } from "../../src/node/functions/env.js";
import { modelOptions } from "../../src/node/compose.js";
import { parseEnv } from "../../src/node/server/env.js";
import { sessionOptionsFromEnv } from "../../src/node/server/models.js";

const FN = { WEBHOOK_SECRET: "whsec_dGVzdA==" };

describe("ORT_* session options", () => {
  it("default: onnxruntime's threads per core, one inter-op thread, no spinning", () => {
    expect(modelOptions(parseEnv({})).session).toEqual({
      intraOpNumThreads: 0,
      interOpNumThreads: 1,
      allowSpinning: false,
      executionProvider: "cpu",
    });
    expect(sessionOptionsFromEnv(parseFunctionEnv(FN))).toEqual({
      intraOpNumThreads: 0,
      interOpNumThreads: 1,
      allowSpinning: false,
      executionProvider: "cpu",
    });
  });

  it("ORT_ALLOW_SPINNING reads true/false as words, not as non-empty strings", () => {
    expect(
      modelOptions(parseEnv({ ORT_ALLOW_SPINNING: "true", ORT_INTRA_OP_THREADS: "2" })).session,
    ).toEqual({
      intraOpNumThreads: 2,
      interOpNumThreads: 1,
      allowSpinning: true,
      executionProvider: "cpu",
    });
    expect(modelOptions(parseEnv({ ORT_ALLOW_SPINNING: "false" })).session?.allowSpinning).toBe(
      false,
    );
    expect(
      sessionOptionsFromEnv(parseFunctionEnv({ ...FN, ORT_ALLOW_SPINNING: "1" })).allowSpinning,
    ).toBe(true);
    expect(() => parseEnv({ ORT_ALLOW_SPINNING: "sometimes" })).toThrow(/ORT_ALLOW_SPINNING/);
  });

  it("ORT_EXECUTION_PROVIDER is cpu or cuda, nothing else", () => {
    expect(
      modelOptions(parseEnv({ ORT_EXECUTION_PROVIDER: "cuda" })).session?.executionProvider,
    ).toBe("cuda");
    expect(
      sessionOptionsFromEnv(parseFunctionEnv({ ...FN, ORT_EXECUTION_PROVIDER: "cuda" }))
        .executionProvider,
    ).toBe("cuda");
    expect(() => parseEnv({ ORT_EXECUTION_PROVIDER: "gpu" })).toThrow(/ORT_EXECUTION_PROVIDER/);
  });
});
