// A mixed corpus for the scan benchmark: the kinds of files an organization's repositories hold, in realistic
// proportions and shapes (workflows, many of them without any image; manifests; compose files; GitLab CI; dev
// containers; Dockerfiles from bench/scan.ts), generated from a fixed seed so that every run scans the same files.

import type { FileInput } from "../src/managers/scan.js";

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGES = [
  "postgres:16.3-alpine",
  "redis:7.2",
  "ghcr.io/acme/api:1.42.0",
  "nginx:1.27-alpine",
  "node:20-bookworm-slim",
  "python:3.12-slim",
  "quay.io/prometheus/prometheus:v2.53.0",
  "registry.k8s.io/kubectl:v1.30.2",
  `envoyproxy/envoy:v1.30.2@sha256:${"ab".repeat(32)}`,
  "mcr.microsoft.com/devcontainers/base:ubuntu-24.04",
];

type Pick = <T>(xs: readonly T[]) => T;

function workflow(next: () => number, pick: Pick): string {
  const lines = ["name: CI", "on:", "  push:", "    branches: [main]", "  pull_request:", "", "permissions:", "  contents: read", "", "jobs:"];
  const jobs = 1 + Math.floor(next() * 4);
  const withImages = next() < 0.3;
  for (let j = 0; j < jobs; j++) {
    lines.push(`  job-${j}:`, "    runs-on: ubuntu-24.04", "    timeout-minutes: 20");
    if (withImages && next() < 0.6) lines.push(`    container: ${pick(IMAGES)}`);
    if (withImages && next() < 0.4) lines.push("    services:", "      db:", `        image: "${pick(IMAGES)}"`, "        ports: ['5432:5432']");
    lines.push("    steps:", "      - uses: actions/checkout@v4", "      - uses: actions/setup-node@v4", "        with:", "          node-version: 20", "          cache: npm");
    for (let s = 0; s < 2 + Math.floor(next() * 6); s++) {
      lines.push(`      - name: Step ${s}`, "        run: |", "          npm ci", `          npm run task-${s} -- --reporter=dot`);
    }
    if (next() < 0.15) {
      lines.push("      - uses: docker/build-push-action@v6", "        with:", "          context: .", "          push: false", "          build-args: |", "            NODE_VERSION=20");
    }
  }
  return `${lines.join("\n")}\n`;
}

function manifest(next: () => number, pick: Pick): string {
  const docs: string[] = [];
  const count = 1 + Math.floor(next() * 3);
  for (let d = 0; d < count; d++) {
    const lines = [
      "apiVersion: apps/v1",
      `kind: ${pick(["Deployment", "StatefulSet", "DaemonSet"])}`,
      "metadata:",
      `  name: app-${d}`,
      "  labels:",
      `    app.kubernetes.io/name: app-${d}`,
      "spec:",
      "  replicas: 2",
      "  selector:",
      "    matchLabels:",
      `      app.kubernetes.io/name: app-${d}`,
      "  template:",
      "    metadata:",
      "      labels:",
      `        app.kubernetes.io/name: app-${d}`,
      "    spec:",
      "      containers:",
    ];
    for (let c = 0; c < 1 + Math.floor(next() * 2); c++) {
      lines.push(
        `        - name: c${c}`,
        `          image: ${pick(IMAGES)}`,
        "          ports:",
        "            - containerPort: 8080",
        "          env:",
        "            - name: LOG_LEVEL",
        "              value: info",
        "          resources:",
        "            limits: { cpu: 500m, memory: 256Mi }",
        "          readinessProbe:",
        "            httpGet: { path: /healthz, port: 8080 }",
      );
    }
    docs.push(lines.join("\n"));
    docs.push(["apiVersion: v1", "kind: Service", "metadata:", `  name: app-${d}`, "spec:", "  ports:", "    - port: 80", "      targetPort: 8080"].join("\n"));
  }
  return `${docs.join("\n---\n")}\n`;
}

function compose(next: () => number, pick: Pick): string {
  const lines = ["services:"];
  for (let s = 0; s < 2 + Math.floor(next() * 4); s++) {
    lines.push(`  svc-${s}:`, `    image: ${next() < 0.2 ? `\${IMAGE_${s}:-${pick(IMAGES)}}` : pick(IMAGES)}`, "    restart: unless-stopped");
    lines.push("    environment:", "      TZ: UTC", "      LOG_LEVEL: info", "    ports:", `      - "${8000 + s}:80"`);
  }
  lines.push("  app:", "    build:", "      context: .", "      args:", "        NODE_VERSION: 20", "volumes:", "  data: {}");
  return `${lines.join("\n")}\n`;
}

function gitlab(next: () => number, pick: Pick): string {
  const lines = ["stages: [test, build]", "default:", `  image: ${pick(IMAGES)}`, "variables:", "  GIT_DEPTH: 10", ""];
  for (let j = 0; j < 2 + Math.floor(next() * 4); j++) {
    lines.push(`job-${j}:`, "  stage: test", `  image: ${pick(IMAGES)}`, "  script:", "    - make deps", `    - make test-${j}`, "  rules:", "    - if: $CI_PIPELINE_SOURCE == 'merge_request_event'");
  }
  return `${lines.join("\n")}\n`;
}

function devcontainer(_next: () => number, pick: Pick): string {
  return `// Dev container\n{\n  "name": "dev",\n  "image": "${pick(IMAGES)}",\n  "features": { "ghcr.io/devcontainers/features/node:1": {} },\n  "postCreateCommand": "npm ci",\n}\n`;
}

/**
 * `count` files of every kind, as repositories of 40 files each (repository paths): 35% Dockerfiles (from
 * `dockerfiles`), 30% workflows, 15% manifests, 10% compose files, 5% GitLab CI, 5% dev containers.
 */
export function generateMixedCorpus(dockerfiles: readonly Buffer[], count = 10_000, seed = 20240620): FileInput[][] {
  const next = rng(seed);
  const pick: Pick = (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number];
  const repos: FileInput[][] = [];
  for (let i = 0; i < count; i++) {
    const r = (i % 100) / 100;
    let file: FileInput;
    if (r < 0.35) file = { path: `services/s${i}/Dockerfile`, content: dockerfiles[i % dockerfiles.length] as Buffer };
    else if (r < 0.65) file = { path: `.github/workflows/w${i}.yml`, content: Buffer.from(workflow(next, pick)) };
    else if (r < 0.8) file = { path: `deploy/k8s/m${i}.yaml`, content: Buffer.from(manifest(next, pick)) };
    else if (r < 0.9) file = { path: `docker-compose.${i}.yml`, content: Buffer.from(compose(next, pick)) };
    else if (r < 0.95) file = { path: `ci/${i}.gitlab-ci.yml`, content: Buffer.from(gitlab(next, pick)) };
    else file = { path: `.devcontainer/d${i}/devcontainer.json`, content: Buffer.from(devcontainer(next, pick)) };
    if (i % 40 === 0) repos.push([]);
    (repos[repos.length - 1] as FileInput[]).push(file);
  }
  return repos;
}
