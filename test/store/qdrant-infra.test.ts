/**
 * Structural checks of infra/qdrant (compose file, Helm values, manifests). The compose-spec and the
 * Qdrant chart's values schema cannot be fetched here (no network), so instead of a full schema check
 * this pins what matters: version, replication, write consistency, secrets, snapshots, resources —
 * and rejects keys the compose spec / chart do not define, so a typo cannot silently drop a setting.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { REPO_ROOT, SPEC_PATH } from "./qdrant-spec.js";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const dir = path.join(REPO_ROOT, "infra/qdrant");
const load = (file: string): Json => parse(readFileSync(path.join(dir, file), "utf8")) as Json;
const loadAll = (file: string): Json[] =>
  parseAllDocuments(readFileSync(path.join(dir, file), "utf8")).map((d) => d.toJSON() as Json);
const SPEC_VERSION = /openapi-(\d+\.\d+\.\d+)\.json$/.exec(SPEC_PATH)![1]!;

/** Service keys of the compose spec that these files may use. */
const COMPOSE_SERVICE_KEYS = [
  "image",
  "build",
  "restart",
  "environment",
  "ports",
  "volumes",
  "depends_on",
  "command",
  "healthcheck",
  "env_file",
];
/** Top-level keys of the official qdrant chart's values.yaml. */
const CHART_KEYS = [
  "replicaCount",
  "image",
  "imagePullSecrets",
  "nameOverride",
  "fullnameOverride",
  "args",
  "env",
  "service",
  "ingress",
  "livenessProbe",
  "readinessProbe",
  "startupProbe",
  "additionalLabels",
  "podAnnotations",
  "podLabels",
  "resources",
  "containerSecurityContext",
  "podSecurityContext",
  "updateVolumeFsOwnership",
  "nodeSelector",
  "tolerations",
  "affinity",
  "topologySpreadConstraints",
  "persistence",
  "snapshotPersistence",
  "snapshotRestoration",
  "config",
  "sidecarContainers",
  "updateConfigurationOnChange",
  "metrics",
  "serviceAccount",
  "priorityClassName",
  "podDisruptionBudget",
  "apiKey",
  "readOnlyApiKey",
  "additionalVolumes",
  "additionalVolumeMounts",
];

describe("infra/qdrant/compose.yaml", () => {
  const compose = load("compose.yaml");
  const { qdrant, app } = compose.services as Record<string, Json>;

  it("uses only compose-spec service keys", () => {
    for (const [name, svc] of Object.entries(compose.services as Record<string, Json>)) {
      expect(
        Object.keys(svc).filter((k) => !COMPOSE_SERVICE_KEYS.includes(k)),
        name,
      ).toEqual([]);
    }
  });

  it("runs the Qdrant version the adapter is contract-checked against, with a mandatory API key", () => {
    expect(qdrant!.image).toBe(`qdrant/qdrant:v${SPEC_VERSION}`);
    expect(qdrant!.environment.QDRANT__SERVICE__API_KEY).toMatch(/^\$\{QDRANT_API_KEY:\?/);
    expect(qdrant!.volumes.some((v: string) => v.endsWith(":/qdrant/storage"))).toBe(true);
    expect(qdrant!.ports.every((p: string) => p.startsWith("127.0.0.1:"))).toBe(true);
  });

  it("points the server at that Qdrant with the same key, built from issue 7's Dockerfile", () => {
    expect(app!.build.dockerfile).toBe("infra/deploy/Dockerfile");
    expect(app!.environment).toMatchObject({
      VECTOR_STORE: "qdrant",
      QDRANT_URL: "http://qdrant:6333",
    });
    expect(app!.environment.QDRANT_API_KEY).toBe(qdrant!.environment.QDRANT__SERVICE__API_KEY);
    expect(app!.depends_on).toContain("qdrant");
  });
});

describe("infra/qdrant/k8s (Helm values for the official chart + manifests)", () => {
  const values = load("k8s/values.yaml");
  const secrets = loadAll("k8s/secrets.example.yaml");
  const cron = load("k8s/snapshot-cronjob.yaml");
  const secretKeys = new Set(
    secrets.flatMap((s) => Object.keys(s.stringData).map((k) => `${s.metadata.name}/${k}`)),
  );
  const refs = (node: unknown): string[] =>
    !node || typeof node !== "object"
      ? []
      : "secretKeyRef" in node
        ? [`${(node as Json).secretKeyRef.name}/${(node as Json).secretKeyRef.key}`]
        : Object.values(node).flatMap(refs);

  it("uses only the chart's value keys and pins the checked Qdrant version", () => {
    expect(Object.keys(values).filter((k) => !CHART_KEYS.includes(k))).toEqual([]);
    expect(values.image.tag).toBe(`v${SPEC_VERSION}`);
  });

  it("is a 3-node cluster, every shard on 2 nodes, writes acknowledged by a valid consistency factor", () => {
    expect(values.replicaCount).toBe(3);
    expect(values.config.cluster.enabled).toBe(true);
    const { replication_factor: rf, write_consistency_factor: wcf } =
      values.config.storage.collection;
    expect(rf).toBe(2);
    expect(wcf).toBeGreaterThanOrEqual(1);
    expect(wcf).toBeLessThanOrEqual(rf);
    // Draining more nodes at once than there are replicas would take shards offline.
    expect(values.podDisruptionBudget).toMatchObject({ enabled: true });
    expect(values.podDisruptionBudget.maxUnavailable).toBeLessThan(rf);
  });

  it("takes the API key and snapshot credentials from Secrets that exist, never inline", () => {
    expect(values.apiKey.valueFrom.secretKeyRef).toEqual({ name: "qdrant-auth", key: "api-key" });
    const used = [...refs(values), ...refs(cron)];
    expect(used.length).toBeGreaterThanOrEqual(4);
    expect(used.filter((r) => !secretKeys.has(r))).toEqual([]);
    expect(JSON.stringify(values)).not.toMatch(/"(access_key|secret_key|api_key)":"/);
  });

  it("sends snapshots to object storage and snapshots every node", () => {
    expect(values.config.storage.snapshots_config).toMatchObject({
      snapshots_storage: "s3",
      s3_config: { bucket: expect.any(String) },
    });
    expect(cron.kind).toBe("CronJob");
    const script = String(cron.spec.jobTemplate.spec.template.spec.containers[0].args[0]);
    const nodes = /for i in ([\d ]+); do/.exec(script)![1]!.trim().split(/\s+/);
    expect(nodes).toHaveLength(values.replicaCount);
    expect(script).toContain("api-key: ${QDRANT_API_KEY}");
  });

  it("reserves the memory it may use (requests = limits), so Qdrant is not evicted under pressure", () => {
    expect(values.resources.requests.memory).toBe(values.resources.limits.memory);
    expect(values.config.storage.on_disk_payload).toBe(true);
  });

  it("every manifest names its apiVersion, kind and name", () => {
    for (const doc of [...secrets, cron])
      expect(doc).toMatchObject({
        apiVersion: expect.any(String),
        kind: expect.any(String),
        metadata: { name: expect.any(String) },
      });
  });
});
