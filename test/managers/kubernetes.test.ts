import { describe, expect, it } from "vitest";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import { kubernetesManager } from "../../src/managers/kubernetes.js";
import { brief, checkInvariants, digest, extractWith, fixture, pinAndRescan, pinEdit } from "./helpers.js";

const D = digest;
const extract = (text: string, path = "deploy/app.yaml") => extractWith(kubernetesManager, text, path, path.includes("kustomization"));

describe("kubernetes: a service's base manifests", () => {
  const path = "deploy/k8s/base/api.yaml";
  const bytes = fixture("kubernetes", path);

  it("finds containers, init containers and CronJob containers in every document", () => {
    const refs = kubernetesManager.extract(bytes, { path }).references;
    checkInvariants(bytes, refs);
    expect(brief(refs)).toEqual([
      [22, "ghcr.io/acme/shop-api:1.42.0", null],
      [26, "ghcr.io/acme/shop-api:1.42.0", null],
      [40, "envoyproxy/envoy:v1.30.2", null],
      [42, "fluent/fluent-bit:3.0.7", null],
      [68, expect.stringMatching(/^registry\.k8s\.io\/kubectl:v1\.30\.2@sha256:/), null],
    ]);
  });

  it("pins in place, keeping quotes, comments, flow style and anchors", () => {
    const { out } = pinAndRescan(kubernetesManager, path, bytes, D);
    const text = out.toString();
    expect(text).toContain(`          image: ghcr.io/acme/shop-api:1.42.0@${D(0)}\n`);
    expect(text).toContain(`          image: "ghcr.io/acme/shop-api:1.42.0@${D(1)}"\n`);
    expect(text).toContain(`          image: envoyproxy/envoy:v1.30.2@${D(2)} # sidecar\n`);
    expect(text).toContain(`        - {name: log-shipper, image: 'fluent/fluent-bit:3.0.7@${D(3)}', resources: {}}\n`);
    expect(text).toContain("  labels: &labels\n");
    expect(text).toContain('              value: "image: not-a-reference:1"\n');
  });
});

describe("kubernetes: List, StatefulSet, DaemonSet, ephemeral containers", () => {
  const path = "deploy/k8s/base/statefulset.yaml";
  it("reads a List's items, honours the ignore comment and skips $(VAR)", () => {
    expect(brief(kubernetesManager.extract(fixture("kubernetes", path), { path }).references)).toEqual([
      [15, "redis:7.2", "ignored-inline"],
      [17, "oliver006/redis_exporter:v1.61.0", null],
      [27, "$(AGENT_IMAGE)", "variable"],
      [30, "busybox:1.36", null],
    ]);
  });

  it("needs apiVersion and kind: other YAML with image keys is no manifest", () => {
    const playbook = "- hosts: all\n  tasks:\n    - docker_container:\n        name: web\n        image: nginx:1.27\n";
    expect(extract(playbook).references).toEqual([]);
    const values = "image:\n  repository: nginx\n  tag: 1.27\nspec:\n  template:\n    spec:\n      containers: [{image: a:1}]\n";
    expect(extract(values, "deploy/values.yaml").references).toEqual([]);
  });

  it("reads any kind whose spec.template.spec is a pod spec (Argo Rollouts, Knative)", () => {
    const rollout = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n        - image: acme/app:2\n";
    expect(brief(extract(rollout).references)).toEqual([[7, "acme/app:2", null]]);
    const pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: busybox:1.36\n";
    expect(brief(extract(pod).references)).toEqual([[5, "busybox:1.36", null]]);
  });
});

describe("kubernetes: kustomization images", () => {
  const path = "deploy/k8s/overlays/prod/kustomization.yaml";
  const bytes = fixture("kubernetes", path);
  const refs = kubernetesManager.extract(bytes, { path }).references;

  it("reads name, newName, newTag and digest", () => {
    expect(brief(refs)).toEqual([
      [6, "ghcr.io/acme/shop-api:1.42.1", null],
      [8, expect.stringMatching(/^mirror\.gcr\.io\/envoyproxy\/envoy:v1\.30\.2@sha256:0f1e/), null],
      [12, "fluent/fluent-bit:3.0.7", null],
      [13, "ghcr.io/acme/redis", "variable"],
    ]);
    expect(refs[1]?.reference).toMatchObject({ registry: "mirror.gcr.io", tag: "v1.30.2" });
  });

  it("pins by setting digest: a new key after the entry's last line, the flow entry extended, an old digest replaced", () => {
    const out = applyEdits(bytes, refs.filter((r) => r.skip === null).map((r, i) => pinEdit(r, D(i + 1)))).toString();
    expect(out).toContain(`  - name: ghcr.io/acme/shop-api\n    newTag: "1.42.1"   # release 2024-06-20\n    digest: ${D(1)}\n  - name: envoyproxy/envoy\n`);
    expect(out).toContain(`    newTag: v1.30.2\n    digest: ${D(2)}\n  - {name: fluent/fluent-bit, newTag: 3.0.7, digest: ${D(3)}}\n`);
    const again = kubernetesManager.extract(Buffer.from(out), { path }).references;
    expect(again.map((r) => r.reference?.digest ?? null)).toEqual([D(1), D(2), D(3), null]);
    expect(again.map((r) => r.reference?.tag ?? null)).toEqual(["1.42.1", "v1.30.2", "3.0.7", null]);
  });

  it("writes the file's own line ending, at the entry's indentation", () => {
    const crlf = "images:\r\n- name: nginx\r\n  newTag: '1.27'\r\n";
    const [ref] = extract(crlf, "kustomization.yaml").references;
    expect(applyEdits(Buffer.from(crlf), [pinEdit(ref!, D(4))]).toString()).toBe(`images:\r\n- name: nginx\r\n  newTag: '1.27'\r\n  digest: ${D(4)}\r\n`);
  });

  it("reports an entry it cannot add a digest to", () => {
    const nested = "images:\n- name: nginx\n  newTag: 1.27\n  extra:\n    deep: true\n";
    expect(extract(nested, "kustomization.yml").references[0]).toMatchObject({ skip: "invalid" });
  });
});

describe("kubernetes: templates", () => {
  it("skips a Helm template as a whole, with the reason", () => {
    const path = "deploy/chart/templates/deployment.yaml";
    expect(kubernetesManager.extract(fixture("kubernetes", path), { path })).toEqual({
      references: [],
      skipped: { reason: "templated", detail: expect.stringContaining("Helm templating") },
    });
    expect(extract("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\nspec:\n  containers: [{image: a:1}]\n").skipped?.reason).toBe(
      "templated",
    );
  });

  it("reads rendered manifests whose data holds Go templates", () => {
    const path = "manifests/monitoring.yaml";
    expect(brief(kubernetesManager.extract(fixture("kubernetes", path), { path }).references)).toEqual([
      [18, "quay.io/prometheus/alertmanager:v0.27.0", null],
    ]);
    const quoted = 'apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: "{{ .Values.image }}"}]\n';
    expect(extract(quoted).references[0]).toMatchObject({ skip: "variable" });
  });
});

describe("kubernetes paths", () => {
  it.each([
    ["k8s/deployment.yaml", true],
    ["deploy/k8s/base/api.yaml", true],
    ["services/api/kubernetes/deploy.yml", true],
    ["manifests/app.yaml", true],
    ["ops/overlays/prod/patch.yaml", true],
    ["apps/web/kustomization.yaml", true],
    ["infra/app.k8s.yaml", true],
    ["config/manager/manager.yaml", true],
    ["config/app.yaml", false],
    ["docs/deploy.md", false],
    ["src/app.yaml", false],
    ["deploy/k8s/README", false],
  ])("%s: %s", (path, claimed) => {
    expect(kubernetesManager.claims(path)).toBe(claimed);
  });
});
