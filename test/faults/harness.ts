// Shared by test/faults and test/hostile: the real app in-process (Probot, the fake GitHub, a registry client with the
// options a test needs, logs captured), a local HTTP server that plays a registry and misbehaves on demand, and a TCP
// trap that records every connection made to it.
import { createHash } from "node:crypto";
import http from "node:http";
import net from "node:net";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Probot } from "probot";
import { createApp, type ScanJob } from "../../src/app/index.js";
import { createMetrics, type Metrics } from "../../src/app/metrics.js";
import type { JobQueue } from "../../src/jobs/types.js";
import { RegistryClient, type RegistryClientOptions } from "../../src/registry/client.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";
import { FakeGitHub } from "../../bench/harness/fake-github.js";
import { commented, INSTALLATION, OWNER } from "../app/app-harness.js";
import { testPrivateKey, testProbot, unthrottledOctokit } from "../../bench/harness/probot.js";
export { testPrivateKey as privateKey };

export { INSTALLATION, OWNER };

export async function until<T>(what: string, probe: () => T | undefined | null | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function sha256(data: string | Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}


export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

export interface Harness {
  gh: FakeGitHub;
  client: RegistryClient;
  queue: JobQueue<ScanJob>;
  metrics: Metrics;
  /** Every line the app logged, parsed; `logText` is the same, raw. */
  logs: LogLine[];
  logText(): string;
  deliver(name: string, payload: unknown, id?: string): Promise<void>;
  idle(): Promise<void>;
  /** `/digest-pin rescan` from `writer` on issue `issue` of `repo`, once the queue is idle: the app's reply. */
  rescan(repo: string, issue: number): Promise<string>;
  /** A counter of the app's Prometheus metrics (summed over label sets matching `labels`). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
  close(): Promise<void>;
}

/**
 * The real app (createApp) in-process, against the fake GitHub, with Probot's retries and throttling off (so a fault
 * reaches the app as it is), resolving through a RegistryClient made with `registry` options.
 */
export async function startHarness(
  options: { registry?: RegistryClientOptions; concurrency?: number; scanTimeoutMs?: number } = {},
): Promise<Harness> {
  const gh = await FakeGitHub.start();
  gh.addInstallation(INSTALLATION, { login: OWNER, type: "Organization" });
  const client = new RegistryClient({ retryBaseMs: 1, maxRetries: 1, ...options.registry });
  const raw: string[] = [];
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (line.trim() === "") continue;
        raw.push(line);
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          logs.push({ level: 0, msg: line });
        }
      }
      callback();
    },
  });
  const probot = testProbot(unthrottledOctokit(gh.apiUrl), pino({ level: "debug" }, sink));
  const metrics = createMetrics();
  let queue: JobQueue<ScanJob> | undefined;
  await probot.load(
    createApp({
      resolver: client,
      metrics,
      concurrency: options.concurrency,
      scanTimeoutMs: options.scanTimeoutMs,
      onQueue: (q) => (queue = q),
    }),
    { cwd: process.cwd(), addHandler: () => undefined },
  );
  if (!queue) throw new Error("the app did not create its queue");
  const q = queue;
  let delivery = 0;
  const deliver: Harness["deliver"] = (name, payload, id) =>
    probot.receive({ id: id ?? `delivery-${++delivery}`, name, payload } as Parameters<Probot["receive"]>[0]);
  return {
    gh,
    client,
    queue: q,
    metrics,
    logs,
    logText: () => raw.join("\n"),
    deliver,
    idle: () => q.onIdle(),
    async rescan(repo, issue) {
      await deliver("issue_comment", commented(gh, repo, issue, "/digest-pin rescan", "writer"));
      await q.onIdle();
      return gh.comments(OWNER, repo, issue).at(-1)?.body ?? "";
    },
    async metric(name, labels = {}) {
      const text = (await metrics.render()).body;
      let sum = 0;
      for (const line of text.split("\n")) {
        const m = /^([a-z_]+)(?:\{([^}]*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const set = Object.fromEntries(
          [...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1] as string, x[2] as string]),
        );
        if (Object.entries(labels).every(([k, v]) => set[k] === v)) sum += Number(m[3]);
      }
      return sum;
    },
    async close() {
      await q.close();
      await client.close();
      await gh.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------------

/** How the bad registry answers for one repository. */
export type Behaviour =
  | { kind: "ok" }
  /** Every request answered with this status (and headers/body). */
  | { kind: "status"; status: number; headers?: Record<string, string>; body?: string }
  /** The request is read and never answered. */
  | { kind: "stall" }
  /** HEAD answers without a digest; GET sends the headers and half the body, then nothing more. */
  | { kind: "stall-body" }
  /** HEAD answers without a digest; GET serves the manifest under a Docker-Content-Digest it does not hash to. */
  | { kind: "lie" }
  /** HEAD answers without a digest; GET sends half the body, then the connection is destroyed. */
  | { kind: "reset" }
  /** HEAD answers without a digest; GET streams `bytes` bytes (chunked, no length), as fast as the client reads. */
  | { kind: "huge"; bytes: number }
  /** Every request is redirected to `location`. */
  | { kind: "redirect"; location: string }
  /**
   * Requests without the expected `authorization` (a header, or a pattern it must match) are challenged with Bearer
   * `realm`, `service` (default "bad") and `scope` (default pull on the repository), or Basic when realm is null;
   * authorized ones are answered as `then` says (default ok).
   */
  | {
      kind: "challenge";
      realm: string | null;
      authorization?: string | RegExp;
      service?: string;
      scope?: string;
      then?: Behaviour;
    };

export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
}

interface Image {
  body: Buffer;
  digest: string;
}

function authorized(header: string | undefined, expected: string | RegExp | undefined): boolean {
  if (expected === undefined || header === undefined) return false;
  return typeof expected === "string" ? header === expected : expected.test(header);
}

/** A manifest body unique to `seed`. */
export function manifestBody(seed: string): Buffer {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: sha256(config), size: config.length },
      layers: [],
    }),
  );
}

/**
 * A small registry on 127.0.0.1 that serves single-platform OCI manifests by tag (HEAD and GET, correct digests), and
 * misbehaves per repository as told. List `host` in insecureRegistries to let the client talk to it.
 */
export class BadRegistry {
  readonly requests: SeenRequest[] = [];
  /** Bytes written to `huge` answers, by repository. */
  readonly sent = new Map<string, number>();
  readonly behaviour = new Map<string, Behaviour>();
  connections = 0;
  private readonly images = new Map<string, Image>();
  private readonly sockets = new Set<net.Socket>();
  private server!: http.Server;
  port = 0;

  static async start(): Promise<BadRegistry> {
    const r = new BadRegistry();
    r.server = http.createServer((req, res) => r.handle(req, res));
    r.server.on("connection", (socket) => {
      r.connections++;
      r.sockets.add(socket);
      socket.on("close", () => r.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => r.server.listen(0, "127.0.0.1", resolve));
    r.port = (r.server.address() as net.AddressInfo).port;
    return r;
  }

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Serve `repository:tag` (again: a new manifest, so the tag moves); returns its digest. */
  image(repository: string, tag: string, seed = `${repository}:${tag}`): string {
    const body = manifestBody(seed);
    const digest = sha256(body);
    this.images.set(`${repository}:${tag}`, { body, digest });
    return digest;
  }

  set(repository: string, behaviour: Behaviour): void {
    this.behaviour.set(repository, behaviour);
  }

  requestsFor(repository: string): SeenRequest[] {
    return this.requests.filter((r) => r.path.startsWith(`/v2/${repository}/`));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const method = req.method ?? "GET";
    const path = req.url ?? "/";
    this.requests.push({ method, path, headers: req.headers });
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(path);
    if (path === "/v2/" || path === "/v2") {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    if (!m) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"NOT_FOUND","message":"nope"}]}');
      return;
    }
    const [, repository = "", reference = ""] = m;
    let behaviour = this.behaviour.get(repository) ?? { kind: "ok" };
    const image =
      this.images.get(`${repository}:${reference}`) ??
      [...this.images].find(([k, i]) => k.startsWith(`${repository}:`) && i.digest === reference)?.[1];
    const headers = (withDigest: boolean, length: number) => ({
      "content-type": MEDIA_TYPES.ociManifest,
      "content-length": String(length),
      ...(withDigest && image ? { "docker-content-digest": image.digest } : {}),
    });
    switch (behaviour.kind) {
      case "status":
        res.writeHead(behaviour.status, { "content-type": "application/json", ...behaviour.headers });
        res.end(method === "HEAD" ? undefined : (behaviour.body ?? ""));
        return;
      case "stall":
        return; // never answered; the socket is destroyed on close()
      case "redirect":
        res.writeHead(307, { location: behaviour.location }).end();
        return;
      case "challenge":
        if (!authorized(req.headers.authorization, behaviour.authorization)) {
          const scope = behaviour.scope ?? `repository:${repository}:pull`;
          const challenge =
            behaviour.realm === null
              ? `Basic realm="bad"`
              : `Bearer realm="${behaviour.realm}",service="${behaviour.service ?? "bad"}",scope="${scope}"`;
          res.writeHead(401, { "www-authenticate": challenge, "content-type": "application/json" });
          res.end(method === "HEAD" ? undefined : '{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
          return;
        }
        behaviour = behaviour.then ?? { kind: "ok" };
        if (behaviour.kind === "redirect") {
          res.writeHead(307, { location: behaviour.location }).end();
          return;
        }
        break;
      default:
        break;
    }
    if (!image) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(method === "HEAD" ? undefined : '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
      return;
    }
    const body = image.body;
    const misbehavesOnGet = behaviour.kind !== "ok" && behaviour.kind !== "challenge";
    if (method === "HEAD") {
      res.writeHead(200, headers(!misbehavesOnGet, body.length)).end();
      return;
    }
    switch (behaviour.kind) {
      case "lie":
        res.writeHead(200, { ...headers(false, body.length), "docker-content-digest": sha256(`not ${image.digest}`) });
        res.end(body);
        return;
      case "stall-body":
        res.writeHead(200, headers(false, body.length));
        res.write(body.subarray(0, body.length >> 1));
        return;
      case "reset":
        res.writeHead(200, headers(false, body.length));
        res.write(body.subarray(0, body.length >> 1), () => req.socket.destroy());
        return;
      case "huge": {
        res.writeHead(200, { "content-type": MEDIA_TYPES.ociManifest });
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        let sent = 0;
        const pump = () => {
          while (sent < behaviour.bytes) {
            sent += chunk.length;
            this.sent.set(repository, sent);
            if (!res.write(chunk)) {
              res.once("drain", pump);
              return;
            }
          }
          res.end();
        };
        res.on("close", () => res.removeAllListeners("drain"));
        pump();
        return;
      }
      default:
        res.writeHead(200, headers(true, body.length)).end(body);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------------

/** A TCP listener on every loopback address (`::`, dual stack) that counts connections and closes them at once. */
export class Trap {
  readonly peers: string[] = [];
  private server!: net.Server;
  port = 0;

  static async start(): Promise<Trap> {
    const t = new Trap();
    t.server = net.createServer((socket) => {
      t.peers.push(`${socket.remoteAddress}:${socket.remotePort}`);
      socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      t.server.once("error", reject);
      t.server.listen(0, "::", resolve);
    });
    t.port = (t.server.address() as net.AddressInfo).port;
    return t;
  }

  get connections(): number {
    return this.peers.length;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
