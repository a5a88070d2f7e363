// The real app process (`node dist/src/app/main.js`, what `npm start` runs) for end-to-end tests and benchmarks:
// started with GHE_HOST at a server playing GitHub, fed webhooks signed with its secret over HTTP.
import { spawn, type ChildProcess } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { testPrivateKey } from "./probot.js";

/** The built app: from dist/bench/harness/ it is ../../src/app/main.js; from bench/harness/ (vitest) it is under dist/. */
function mainScript(): string {
  const compiled = new URL("../../src/app/main.js", import.meta.url).pathname;
  return compiled.includes("/dist/") ? compiled : new URL("../../dist/src/app/main.js", import.meta.url).pathname;
}

export const WEBHOOK_SECRET = "load-webhook-secret";


export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Delivery {
  name: string;
  payload: unknown;
  /** X-GitHub-Delivery (default a new UUID). */
  id?: string;
  /** X-Hub-Signature-256 as sent (default: the right one); null leaves the header out. */
  signature?: string | null;
  /** Extra or replacing headers. */
  headers?: Record<string, string>;
  /** The exact body to send (default JSON of payload). */
  body?: string;
}

export interface Acknowledgement {
  status: number;
  ms: number;
  text: string;
}

export interface AppProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  output(): string;
  send(delivery: Delivery): Promise<Acknowledgement>;
  /** Peak resident set size of the process so far (VmHWM), in bytes; null off Linux. */
  peakRss(): number | null;
  /** A sample of the app's Prometheus metrics, as name{labels} → value. */
  metrics(): Promise<Map<string, number>>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function signature(body: string, secret = WEBHOOK_SECRET): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export interface StartOptions {
  /** The working directory (where Probot reads and writes .env); default this process's. */
  cwd?: string;
  /** Pass APP_ID, PRIVATE_KEY and WEBHOOK_SECRET (default true); false starts in setup mode unless cwd has a .env. */
  credentials?: boolean;
  /** The port to listen on (default a free one). */
  port?: number;
  /** The script to run instead of the app's main (e.g. the container's entry point), with no arguments. */
  script?: string;
}

/** Start the built app with GHE_HOST at `githubHost` (`127.0.0.1:PORT`); resolves once /healthz answers. */
export async function startAppProcess(
  githubHost: string,
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<AppProcess> {
  const main = options.script ?? mainScript();
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const credentials = options.credentials === false ? {} : { APP_ID: "4242", PRIVATE_KEY: testPrivateKey(), WEBHOOK_SECRET };
  const child = spawn(process.execPath, [main], {
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...credentials,
      GHE_HOST: githubHost,
      GHE_PROTOCOL: "http",
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "info",
      LOG_FORMAT: "json",
      DIGEST_PIN_INTERVAL: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const chunks: string[] = [];
  child.stdout?.on("data", (d: Buffer) => chunks.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => chunks.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = () => chunks.join("");
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the app did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = child.pid ?? 0;
  return {
    url,
    pid,
    child,
    output,
    async send(d) {
      const body = d.body ?? JSON.stringify(d.payload);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "x-github-event": d.name,
        "x-github-delivery": d.id ?? randomUUID(),
        ...(d.signature === null ? {} : { "x-hub-signature-256": d.signature ?? signature(body) }),
        ...d.headers,
      };
      const started = performance.now();
      const response = await fetch(`${url}/api/github/webhooks`, { method: "POST", headers, body });
      const text = await response.text();
      return { status: response.status, ms: performance.now() - started, text };
    },
    peakRss() {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        return m ? Number(m[1]) * 1024 : null;
      } catch {
        return null;
      }
    },
    async metrics() {
      const text = await fetch(`${url}/metrics`).then((r) => r.text());
      const out = new Map<string, number>();
      for (const line of text.split("\n")) {
        const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
        if (m) out.set(m[1] as string, Number(m[2]));
      }
      return out;
    },
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        await exited;
      }
    },
  };
}

type Maybe<T> = T | undefined | null | false;

/** Poll `probe` (sync or async) until it gives a value, or fail after `ms` saying what was awaited. */
export async function until<T>(what: string, probe: () => Maybe<T> | Promise<Maybe<T>>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
