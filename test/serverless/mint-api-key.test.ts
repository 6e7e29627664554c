/** infra/deploy/mint-api-key.mjs prints a key once and the commands that store only its hash. */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";

describe("infra/deploy/mint-api-key.mjs", () => {
  it("prints the key, and the remote and local KV commands holding its SHA-256 only", () => {
    const out = execFileSync(process.execPath, ["infra/deploy/mint-api-key.mjs", "acme", "test"], {
      encoding: "utf8",
    });
    const key = /key \(shown once\): (rs_test_[A-Za-z0-9]{32})/.exec(out)![1]!;
    const hash = createHash("sha256").update(key).digest("hex");
    const commands = out.split("\n").filter((l) => l.includes("wrangler kv key put"));
    expect(commands).toHaveLength(2);
    expect(commands[0]).toContain("--remote");
    // The local KV of `npm run dev:serverless` (its --persist-to folder).
    expect(commands[1]).toContain("--local --persist-to .wrangler/dev-serverless/wrangler");
    for (const c of commands) {
      expect(c).toContain(`'apikey:${hash}' '{"tenant":"acme"}'`);
      expect(c).not.toContain(key);
    }
  });

  it("refuses a tenant that is no safe id", () => {
    expect(() =>
      execFileSync(process.execPath, ["infra/deploy/mint-api-key.mjs", "../x"], { stdio: "pipe" }),
    ).toThrow();
  });
});
