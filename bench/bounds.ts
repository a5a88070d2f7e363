// Bounds benchmark: what hostile repository content costs one process. Each pass runs in a child process of its own
// (`node dist/bench/bounds.js PASS`), so that its peak RSS is its own:
// - refused: 50,000 references, each to its own registry that the host policy refuses (loopback addresses not listed:
//   no connection is made), planned through the real RegistryClient with the default caps (5,000 asked, 45,000
//   TOO_MANY_REFERENCES); refused-all: the same with the repository cap lifted, so that all 50,000 are asked.
// - slow: 2,000 registries on loopback ports (another process, listed as insecure), each answering a HEAD after
//   200 ms: how many requests were in flight at once over all of them, and the wall time.
// - stalled: 2,000 registries that never answer, under a 5 s scan deadline: every reference a TIMEOUT at the deadline.
// - config: a 64 KiB config of 7,000 keys (the most a file under the cap holds), and a 10 MiB one (refused unread).
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import { Deadline } from "../src/deadline.js";
import { scanDockerfile } from "../src/dockerfile/scan.js";
import { runEngine, resolveFiles } from "../src/engine.js";
import { DEFAULT_CONFIG, parseConfig } from "../src/github/config.js";
import type { ScannedFile } from "../src/plan.js";
import { RegistryClient } from "../src/registry/client.js";

type Figures = Record<string, number | string>;

const mb = (kib: number) => Math.round(kib / 1024);
const peakRss = () => mb(process.resourceUsage().maxRSS);
const heapAfterGc = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().heapUsed / (1024 * 1024));
};

/** Files of 1,000 FROM lines each, `total` references in all, each naming the registry `host(i)`. */
function files(total: number, host: (i: number) => string): ScannedFile[] {
  const out: ScannedFile[] = [];
  for (let start = 0; start < total; start += 1_000) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(total, start + 1_000); i++) lines.push(`FROM ${host(i)}/app:1\n`);
    out.push({ path: `svc${start / 1_000}/Dockerfile`, references: scanDockerfile(Buffer.from(lines.join(""))) });
  }
  return out;
}

const refusedHost = (i: number) => `127.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:1`;

/** 50,000 references to refused registries, asked by `ask`, which counts what it got. */
async function manyRefused(ask: (scanned: ScannedFile[], client: RegistryClient) => Promise<Figures>): Promise<Figures> {
  const scanned = files(50_000, refusedHost);
  const baseline = peakRss();
  const client = new RegistryClient();
  try {
    const started = performance.now();
    const counted = await ask(scanned, client);
    return {
      "references": 50_000,
      "wall (ms)": Math.round(performance.now() - started),
      ...counted,
      "peak RSS after scanning (MB)": baseline,
      "peak RSS (MB)": peakRss(),
      "heap after GC (MB)": heapAfterGc(),
    };
  } finally {
    await client.close();
  }
}

/** With the default caps: 5,000 asked, the rest TOO_MANY_REFERENCES. */
const refused = () =>
  manyRefused(async (scanned, client) => {
    const { errors } = (await runEngine({ files: scanned, config: DEFAULT_CONFIG, resolver: client })).plan;
    return {
      "refused": errors.filter((e) => /refused/.test(e.error)).length,
      "TOO_MANY_REFERENCES": errors.filter((e) => e.code === "TOO_MANY_REFERENCES").length,
    };
  });

/** The repository's cap lifted: all 50,000 asked. */
const refusedAll = () =>
  manyRefused(async (scanned, client) => {
    const limits = { perFile: 1_000, perRepository: 50_000 };
    const answers = [...(await resolveFiles(scanned, client, { limits })).values()];
    return { refused: answers.filter((r) => r instanceof Error && /refused/.test(r.message)).length };
  });

/** Start `count` registries in another process; `stop()` returns the most requests they had in flight at once. */
async function hosts(count: number, behaviour: string) {
  const child = spawn(process.execPath, [new URL("./harness/slow-hosts.js", import.meta.url).pathname, String(count), behaviour], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { ports } = JSON.parse((await lines.next()).value as string) as { ports: number[] };
  return {
    hosts: ports.map((p) => `127.0.0.1:${p}`),
    async stop(): Promise<number> {
      child.stdin.end();
      const { maxInFlight } = JSON.parse((await lines.next()).value as string) as { maxInFlight: number };
      await once(child, "exit");
      return maxInFlight;
    },
  };
}

/** One reference to each of 2,000 registries that answer as `behaviour` says, within the scan's deadline if any. */
async function manyHosts(behaviour: string, scanMs?: number): Promise<Figures> {
  const registries = await hosts(2_000, behaviour);
  const baseline = peakRss();
  const client = new RegistryClient({ insecureRegistries: registries.hosts });
  const scan = scanMs === undefined ? undefined : new Deadline(scanMs, "the registry work of one repository scan");
  try {
    const scanned = files(2_000, (i) => registries.hosts[i] as string);
    const started = performance.now();
    const answers = [...(await resolveFiles(scanned, client, scan ? { signal: scan.signal } : {})).values()];
    const ms = performance.now() - started;
    return {
      "registries": 2_000,
      "answered": answers.filter((a) => !(a instanceof Error)).length,
      "TIMEOUT": answers.filter((a) => a instanceof Error && /gave up after/.test(a.message)).length,
      "wall (ms)": Math.round(ms),
      "most requests in flight at once": await registries.stop(),
      "peak RSS before (MB)": baseline,
      "peak RSS (MB)": peakRss(),
      "heap after GC (MB)": heapAfterGc(),
    };
  } finally {
    scan?.dispose();
    await client.close();
  }
}

async function config(): Promise<Figures> {
  const atCap = Array.from({ length: 7_000 }, (_, i) => `k${String(i).padStart(4, "0")}: 1\n`).join("");
  const huge = "k: 1\n".repeat((10 * 1024 * 1024) / 5);
  parseConfig(atCap); // warm up
  let started = performance.now();
  const a = parseConfig(atCap);
  const atCapMs = performance.now() - started;
  started = performance.now();
  const b = parseConfig(huge);
  const hugeMs = performance.now() - started;
  return {
    "64 KiB config: bytes": Buffer.byteLength(atCap),
    "64 KiB config: parse (ms)": Math.round(atCapMs),
    "64 KiB config: error length": a.ok ? 0 : a.error.length,
    "10 MiB config: refused in (ms)": Number(hugeMs.toFixed(2)),
    "10 MiB config: error": b.ok ? "accepted" : b.error,
  };
}

const PASSES: Record<string, () => Promise<Figures>> = {
  refused,
  "refused-all": refusedAll,
  slow: () => manyHosts("200"),
  stalled: () => manyHosts("stall", 5_000),
  config,
};

/** Every pass, each in a child process of its own. */
export async function benchBounds(): Promise<Figures> {
  const out: Figures = {};
  for (const name of Object.keys(PASSES)) {
    const child = spawn(process.execPath, ["--expose-gc", new URL(import.meta.url).pathname, name], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
    const [code] = (await once(child, "exit")) as [number];
    if (code !== 0) throw new Error(`bounds pass ${name} exited with ${code}`);
    for (const [key, value] of Object.entries(JSON.parse(text) as Figures)) out[`${name}: ${key}`] = value;
  }
  return out;
}

const pass = process.argv[2];
if (pass !== undefined && new URL(import.meta.url).pathname === process.argv[1]) {
  const run = PASSES[pass];
  if (!run) throw new Error(`no pass ${pass}`);
  process.stdout.write(JSON.stringify(await run()));
}
