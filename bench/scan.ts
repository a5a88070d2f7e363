// Scan throughput on one core: scanDockerfile over ≥10,000 generated Dockerfiles of realistic shape, and the managers
// (scanFiles, a repository at a time) over a mixed corpus of 10,000 files of every kind (bench/corpus.ts).

import { scanDockerfile } from "../src/dockerfile/scan.js";
import { scanFiles } from "../src/managers/scan.js";
import { generateMixedCorpus, rng } from "./corpus.js";

const FILES = 12_000;

const IMAGES = [
  "python:3.12-slim",
  "node:20-bookworm-slim",
  "golang:1.22-alpine",
  "alpine:3.19",
  "debian:bookworm-slim",
  "ubuntu:24.04",
  "ghcr.io/astral-sh/uv:0.4.18",
  "gcr.io/distroless/static-debian12:nonroot",
  "mcr.microsoft.com/dotnet/sdk:8.0",
  "registry.example.com:5000/team/base:2024.06",
  `nginx:1.27@sha256:${"4f".repeat(32)}`,
  "eclipse-temurin:21-jre",
];
const PACKAGES = ["curl", "ca-certificates", "git", "build-essential", "libpq-dev", "tini", "jq", "unzip", "openssh-client"];

function generate(next: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const lines: string[] = [];
  if (next() < 0.4) lines.push("# syntax=docker/dockerfile:1.7");
  lines.push("# Build and runtime image for the service.");
  const base = pick(IMAGES);
  if (next() < 0.5) lines.push(`ARG BASE=${base}`, "ARG APP_VERSION=0.0.0");
  const stages = 1 + Math.floor(next() * 3);
  for (let s = 0; s < stages; s++) {
    const image = s === stages - 1 && lines.some((l) => l.startsWith("ARG BASE")) ? "${BASE}" : pick(IMAGES);
    const platform = next() < 0.3 ? "--platform=$BUILDPLATFORM " : "";
    lines.push("", `FROM ${platform}${image} AS stage${s}`, "WORKDIR /app", `ENV PATH=/app/bin:$PATH LANG=C.UTF-8`);
    const steps = 3 + Math.floor(next() * 6);
    for (let k = 0; k < steps; k++) {
      const r = next();
      if (r < 0.2) {
        const pkgs = PACKAGES.filter(() => next() < 0.5);
        lines.push(
          "# System packages",
          "RUN apt-get update \\",
          "    && apt-get install -y --no-install-recommends \\",
          ...pkgs.map((p) => `        ${p} \\`),
          "    && rm -rf /var/lib/apt/lists/*",
        );
      } else if (r < 0.35) {
        lines.push(
          "RUN --mount=type=cache,target=/root/.cache/pip \\",
          `    --mount=type=bind,from=${pick(IMAGES)},source=/usr/local/bin,target=/tools \\`,
          "    pip install --no-cache-dir -r requirements.txt",
        );
      } else if (r < 0.5) {
        lines.push(`COPY --link --from=${s > 0 && next() < 0.6 ? `stage${s - 1}` : pick(IMAGES)} /out/ /usr/local/bin/`);
      } else if (r < 0.6) {
        lines.push("RUN <<EOF", "set -eux", "echo building", "FROM-looking text in a heredoc body", "EOF");
      } else if (r < 0.75) {
        lines.push("COPY --chown=app:app . .", "RUN make build VERSION=${APP_VERSION:-dev} && make test");
      } else {
        lines.push(`# step ${k}`, `RUN echo "step ${k}" > /tmp/step-${k}.txt`);
      }
    }
  }
  lines.push("", "USER 10001", "EXPOSE 8080", 'HEALTHCHECK CMD ["/app/bin/health"]', 'ENTRYPOINT ["/usr/bin/tini", "--"]', 'CMD ["/app/bin/server"]');
  while (lines.length < 20) lines.push(`# padding ${lines.length}`);
  const text = lines.slice(0, 80).join("\n") + "\n";
  return next() < 0.15 ? text.replace(/\n/g, "\r\n") : text;
}

/** The benchmark's corpus: `count` Dockerfiles, the same for the same seed. */
export function generateCorpus(count = FILES, seed = 20240601): Buffer[] {
  const next = rng(seed);
  return Array.from({ length: count }, () => Buffer.from(generate(next), "utf8"));
}

/** files/s of the managers over the mixed corpus, by kind too. */
function benchMixed(dockerfiles: readonly Buffer[]): Record<string, number | string> {
  const repos = generateMixedCorpus(dockerfiles);
  const files = repos.reduce((n, r) => n + r.length, 0);
  const bytes = repos.reduce((n, r) => n + r.reduce((m, f) => m + f.content.length, 0), 0);
  for (const repo of repos.slice(0, 25)) scanFiles(repo); // warm up the JIT
  let references = 0;
  let skipped = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const repo of repos) {
    const result = scanFiles(repo);
    for (const f of result.files) references += f.references.length;
    skipped += result.skipped.length;
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  // CPU time of this process: on a machine shared with other work, the wall clock also counts time spent waiting.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  // Per kind, for the record: where the time goes (CPU time, one kind at a time).
  const byKind: Record<string, { files: number; us: number }> = {};
  for (const repo of repos) {
    for (const file of repo) {
      const t = process.cpuUsage();
      const manager = scanFiles([file]).files[0]?.manager ?? "none";
      const d = process.cpuUsage(t);
      const entry = (byKind[manager] ??= { files: 0, us: 0 });
      entry.files++;
      entry.us += d.user + d.system;
    }
  }
  const kinds = Object.entries(byKind)
    .map(([k, v]) => `${k} ${v.files} files ${Math.round(v.files / (v.us / 1e6))}/s`)
    .join(", ");
  console.log(
    `scan (mixed): ${Math.round(files / cpuSeconds)} files/s of CPU time (${Math.round(files / seconds)} by the wall clock), ` +
      `${(bytes / 1e6 / cpuSeconds).toFixed(2)} MB/s (${files} files in ${repos.length} repositories, ${references} references, ` +
      `${skipped} files skipped, ${cpuSeconds.toFixed(3)} s CPU, ${seconds.toFixed(3)} s wall)`,
  );
  console.log(`scan (mixed) by kind: ${kinds}`);
  return {
    "mixed files": files,
    "mixed average file size (bytes)": Math.round(bytes / files),
    "mixed references found": references,
    "mixed seconds (wall)": Number(seconds.toFixed(3)),
    "mixed seconds (CPU)": Number(cpuSeconds.toFixed(3)),
    "mixed files/s (CPU time)": Math.round(files / cpuSeconds),
    "mixed files/s (wall clock)": Math.round(files / seconds),
    "mixed by kind": kinds,
  };
}

export async function benchScan(): Promise<Record<string, number | string>> {
  const files = generateCorpus();
  const bytes = files.reduce((n, f) => n + f.length, 0);
  const lineCounts = files.map((f) => f.toString("latin1").split("\n").length - 1);

  for (const f of files.slice(0, 1_000)) scanDockerfile(f); // warm up the JIT
  let references = 0;
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  for (const f of files) references += scanDockerfile(f).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await Promise.resolve();

  const figures = {
    files: files.length,
    "lines per file (min-max)": `${Math.min(...lineCounts)}-${Math.max(...lineCounts)}`,
    "average file size (bytes)": Math.round(bytes / files.length),
    "references found": references,
    "seconds": Number(seconds.toFixed(3)),
    "files/s": Math.round(files.length / seconds),
    "files/s (CPU time)": Math.round(files.length / cpuSeconds),
    "MB/s": Number((bytes / 1e6 / seconds).toFixed(2)),
  };
  console.log(
    `scan: ${figures["files/s"]} files/s (${figures["files/s (CPU time)"]} of CPU time), ${figures["MB/s"]} MB/s ` +
      `(${files.length} Dockerfiles, ${references} references, ${figures.seconds} s)`,
  );
  const mixed = benchMixed(files);
  return { ...figures, ...mixed, "peak RSS (MB)": Math.round(process.resourceUsage().maxRSS / 1024) };
}
