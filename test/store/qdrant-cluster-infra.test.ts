/**
 * The cluster promises of infra/qdrant (issue 20), parsed from the files themselves: explicit shard
 * number, replication and write consistency — the same in the Helm values, the 3-node compose file
 * and the app's environment (which the app's own env schema accepts); inter-node auth on, with the
 * API key from a secret; a sizing guide that matches the default `QDRANT_QUANTIZATION`.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { z } from "zod";
import { qdrantEnvFields, qdrantOptions } from "../../src/lib/store/qdrant/index.js";
import { REPO_ROOT, SPEC_PATH } from "./qdrant-spec.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = path.join(REPO_ROOT, "infra/qdrant");
const text = (file: string) => readFileSync(path.join(dir, file), "utf8");
const load = (file: string): Json => parse(text(file), { merge: true }) as Json;
const SPEC_VERSION = /openapi-(\d+\.\d+\.\d+)\.json$/.exec(SPEC_PATH)![1]!;

/** The collection layout the app gets from an environment, through its own env schema. */
function appLayout(env: Record<string, string>) {
  const parsed = z.object(qdrantEnvFields).parse({ QDRANT_URL: "http://q:6333", ...env });
  const o = qdrantOptions(parsed, 512);
  return {
    shardNumber: o.shardNumber,
    replicationFactor: o.replicationFactor,
    writeConsistencyFactor: o.writeConsistencyFactor,
  };
}

describe("Helm values + the app's ConfigMap", () => {
  const values = load("k8s/values.yaml");
  const appEnv = load("k8s/app-env.yaml");
  const collection = values.config.storage.collection;

  it("sets shard number, replication and write consistency explicitly; the app sends the same", () => {
    expect(collection).toMatchObject({
      shard_number: expect.any(Number),
      replication_factor: 2,
      write_consistency_factor: 2,
    });
    expect(appEnv).toMatchObject({ kind: "ConfigMap", metadata: { name: expect.any(String) } });
    expect(appLayout(appEnv.data)).toEqual({
      shardNumber: collection.shard_number,
      replicationFactor: collection.replication_factor,
      writeConsistencyFactor: collection.write_consistency_factor,
    });
    // Fewer shards than nodes would leave a node without data to serve.
    expect(collection.shard_number).toBeGreaterThanOrEqual(values.replicaCount);
  });

  it("checks the API key on the inter-node port, the key coming from a Secret", () => {
    expect(values.config.service.enforce_internal_auth).toBe(true);
    expect(values.apiKey.valueFrom.secretKeyRef).toMatchObject({ name: expect.any(String) });
    expect(JSON.stringify(appEnv.data)).not.toMatch(/API_KEY/);
  });
});

describe("infra/qdrant/compose.cluster.yaml (3 nodes)", () => {
  const compose = load("compose.cluster.yaml");
  const nodes = Object.entries(compose.services as Record<string, Json>);

  it("runs 3 nodes of the checked version: node 1 founds the cluster, the others join it, ports on loopback", () => {
    expect(nodes.map(([name]) => name)).toEqual(["qdrant-1", "qdrant-2", "qdrant-3"]);
    for (const [name, svc] of nodes) {
      expect(svc.image, name).toBe(`qdrant/qdrant:v${SPEC_VERSION}`);
      expect(
        svc.ports.every((p: string) => p.startsWith("127.0.0.1:")),
        name,
      ).toBe(true);
      expect(svc.environment.QDRANT__CLUSTER__ENABLED, name).toBe("true");
    }
    expect(nodes[0]![1].command).not.toContain("--bootstrap");
    for (const [, svc] of nodes.slice(1))
      expect(svc.command.slice(0, 2)).toEqual(["--bootstrap", "http://qdrant-1:6335"]);
  });

  it("every node: inter-node auth on, the API key read from a compose secret, none inline", () => {
    expect(compose.secrets.qdrant_api_key.file).toBe("./.qdrant-api-key");
    expect(readFileSync(path.join(REPO_ROOT, ".gitignore"), "utf8")).toContain(
      "/infra/qdrant/.qdrant-api-key",
    );
    for (const [name, svc] of nodes) {
      expect(svc.environment.QDRANT__SERVICE__ENFORCE_INTERNAL_AUTH, name).toBe("true");
      expect(svc.environment, name).not.toHaveProperty("QDRANT__SERVICE__API_KEY");
      expect(svc.secrets, name).toEqual(["qdrant_api_key"]);
      expect(svc.entrypoint.join(" "), name).toContain(
        'QDRANT__SERVICE__API_KEY="$$(cat /run/secrets/qdrant_api_key)"',
      );
    }
  });

  it("collection defaults on every node = the app's explicit layout", () => {
    const app = appLayout(compose["x-app-env"]);
    expect(app.replicationFactor).toBe(2);
    for (const [name, svc] of nodes) {
      const e = svc.environment;
      expect(
        {
          shardNumber: Number(e.QDRANT__STORAGE__COLLECTION__SHARD_NUMBER),
          replicationFactor: Number(e.QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR),
          writeConsistencyFactor: Number(e.QDRANT__STORAGE__COLLECTION__WRITE_CONSISTENCY_FACTOR),
        },
        name,
      ).toEqual(app);
    }
  });
});

describe("the sizing guide matches the defaults", () => {
  it("QDRANT_QUANTIZATION defaults to off, and the guide sizes 8 GiB per node for that first", () => {
    const parsed = z.object(qdrantEnvFields).parse({ QDRANT_URL: "http://q:6333" });
    expect(parsed.QDRANT_QUANTIZATION).toBe(false);
    const guide = text("README.md");
    const row =
      /\| `false` \(\*\*the default\*\*\) \| 3\.6 GB × ⅔ = 2\.4 GB \| \*\*≈ ([\d.]+)M regions\*\* \|/.exec(
        guide,
      );
    expect(row).not.toBeNull();
    // 8 GiB per node over 2.4 GB per million regions per node (3.6 GB × 2 replicas / 3 nodes).
    const holds = (8 * 2 ** 30) / 1e9 / ((3.6 * 2) / 3);
    expect(Number(row![1])).toBeCloseTo(Math.floor(holds * 2) / 2, 5);
    expect(load("k8s/values.yaml").resources.requests.memory).toBe("8Gi");
  });
});
