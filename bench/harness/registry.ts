// A real OCI registry for tests and benchmarks: the CNCF Distribution registry (Debian's `docker-registry`) on
// loopback, anonymous, with htpasswd Basic auth, with token auth through a small Node token server, or over TLS with
// a self-signed certificate; plus seeding helpers that push blobs, manifests, indexes and Docker manifest lists
// without Docker. Shared by test/integration and bench/, so it must not depend on vitest.

import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes, sign } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { Agent, request } from "undici";
import { parseWwwAuthenticate, pickChallenge } from "../../src/registry/auth.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";

const run = promisify(execFile);

export const REGISTRY_BINARY = process.env.DIGEST_PIN_REGISTRY_BIN ?? "/usr/bin/docker-registry";
export const SKOPEO_BINARY = "/usr/bin/skopeo";

/** The test user of the Basic and token variants, and its bcrypt (cost 4) htpasswd line. */
export const TEST_USER = { username: "pinner", password: "pin-test-password" };
/**
 * The test user's identity token (an OAuth2 refresh token, as Docker keeps after `docker login` to ACR): the token
 * variant accepts it in a `POST` with `grant_type=refresh_token`, the flow Docker uses for identity tokens.
 */
export const TEST_IDENTITY_TOKEN = "pinner-refresh-token-0123456789";
// Made once with `perl -e 'print crypt("pin-test-password", "$2b$04$<22 salt chars>")'` (glibc libxcrypt bcrypt);
// cost 4 keeps the registry's password check under a millisecond.
const TEST_USER_HTPASSWD = "pinner:$2b$04$mwdgivxL8iBPg6YJcyrkler9IW9z5eQ8WtnVGKMnrHg3Tmu9re/bW";

export function registryAvailability(): { available: true } | { available: false; reason: string } {
  if (existsSync(REGISTRY_BINARY)) return { available: true };
  return {
    available: false,
    reason: `${REGISTRY_BINARY} is missing (install the Debian package docker-registry, or set DIGEST_PIN_REGISTRY_BIN)`,
  };
}

export function skopeoAvailable(): boolean {
  return existsSync(SKOPEO_BINARY);
}

export type RegistryAuth = "none" | "basic" | "token";

export interface StartOptions {
  auth?: RegistryAuth;
  /** Serve https with a fresh self-signed certificate for 127.0.0.1 (see `ca`). */
  tls?: boolean;
  /** Token variant: repositories whose pull needs the test user's credentials. */
  privateRepositories?: string[];
  /**
   * Token variant: serve the token realm on the registry's own host, `http://HOST/token`, as ghcr.io and quay.io do
   * (a small front server routes `/token` to the token server and the rest to the registry). Not with `tls`.
   */
  realmOnRegistryHost?: boolean;
}

export interface AccessLogEntry {
  method: string;
  path: string;
  status: number;
}

export interface TokenRequestLog {
  scopes: string[];
  service: string | null;
  /** Whether the request carried credentials (Basic, or a refresh token), and whether they named a valid user. */
  authorization: "none" | "valid" | "invalid";
  /** `GET` with optional Basic auth (Distribution's token protocol) or `POST` of an OAuth2 form. */
  method: string;
  /** The OAuth2 form's `grant_type` (POST only). */
  grant?: string;
}

export type ImageKind = "oci-index" | "docker-list" | "oci-manifest" | "docker-manifest";

export interface PushImageOptions {
  kind: ImageKind;
  /** `os/arch[/variant]` of each platform manifest; a single manifest uses the first (default linux/amd64). */
  platforms?: string[];
  /** Makes the pushed content distinct from earlier pushes (drift). */
  salt?: string;
  /** The image config's `created` time (ISO 8601); absent by default. */
  created?: string;
  /** Labels in every platform's image config (`config.Labels`), e.g. `org.opencontainers.image.source`. */
  labels?: Record<string, string>;
}

export interface PushedImage {
  digest: string;
  mediaType: string;
  /** Platform manifest digests by `os/arch[/variant]`. */
  children: Record<string, string>;
}

function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString("base64url");
}

/** A self-signed certificate and key (PEM) made with the openssl CLI. */
async function selfSigned(dir: string, name: string, keyType: "rsa" | "ec"): Promise<{ cert: string; key: string }> {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  const keyArgs = keyType === "rsa" ? ["-newkey", "rsa:2048"] : ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"];
  await run("openssl", [
    "req", "-x509", ...keyArgs, "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "2",
    "-subj", `/CN=${name}`, "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
  ]);
  return { cert: await readFile(certFile, "utf8"), key: await readFile(keyFile, "utf8") };
}

function pemToDerBase64(pem: string): string {
  return pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

/** A minimal Distribution token server: RS256 JWTs with the signing certificate in `x5c`. */
class TokenServer {
  readonly log: TokenRequestLog[] = [];
  private server: http.Server | undefined;
  port = 0;

  constructor(
    private readonly keyPem: string,
    private readonly certPem: string,
    readonly issuer: string,
    readonly service: string,
    private readonly privateRepositories: ReadonlySet<string>,
  ) {}

  /** Where the realm is announced: the token server itself, unless a front serves it on the registry's host. */
  realmPort: number | undefined;

  get realm(): string {
    return `http://127.0.0.1:${this.realmPort ?? this.port}/token`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === "POST") {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => this.answer(req, res, new URLSearchParams(Buffer.concat(chunks).toString("utf8"))));
      return;
    }
    this.answer(req, res, undefined);
  }

  /** Answer a GET (scopes in the query, Basic auth) or an OAuth2 POST (scopes space-separated in the form). */
  private answer(req: http.IncomingMessage, res: http.ServerResponse, form: URLSearchParams | undefined): void {
    const url = new URL(req.url ?? "/", "http://token");
    let scopes = url.searchParams.getAll("scope");
    let service = url.searchParams.get("service");
    let authorization: TokenRequestLog["authorization"] = "none";
    const header = req.headers.authorization;
    if (form) {
      scopes = (form.get("scope") ?? "").split(" ").filter((s) => s !== "");
      service = form.get("service");
      const refresh = form.get("refresh_token");
      const ok = form.get("grant_type") === "refresh_token" && refresh === TEST_IDENTITY_TOKEN;
      authorization = ok ? "valid" : "invalid";
    } else if (header) {
      const decoded = header.startsWith("Basic ") ? Buffer.from(header.slice(6), "base64").toString() : "";
      authorization = decoded === `${TEST_USER.username}:${TEST_USER.password}` ? "valid" : "invalid";
    }
    const grant = form?.get("grant_type") ?? undefined;
    this.log.push({ scopes, service, authorization, method: req.method ?? "GET", ...(grant ? { grant } : {}) });
    if (url.pathname !== "/token") {
      res.writeHead(404).end();
      return;
    }
    if (authorization === "invalid") {
      res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
      return;
    }
    const access = [];
    for (const scope of scopes) {
      const [type, name, actions] = scope.split(":");
      if (type !== "repository" || !name || !actions) continue;
      const granted = actions.split(",").filter((action) => {
        if (authorization === "valid") return action === "pull" || action === "push";
        return action === "pull" && !this.privateRepositories.has(name);
      });
      if (granted.length > 0) access.push({ type: "repository", name, actions: granted });
    }
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.issuer,
      sub: authorization === "valid" ? TEST_USER.username : "",
      aud: this.service,
      exp: now + 300,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(8).toString("hex"),
      access,
    };
    const head = { typ: "JWT", alg: "RS256", x5c: [pemToDerBase64(this.certPem)] };
    const signingInput = `${base64url(JSON.stringify(head))}.${base64url(JSON.stringify(claims))}`;
    const signature = sign("RSA-SHA256", Buffer.from(signingInput), this.keyPem);
    const token = `${signingInput}.${base64url(signature)}`;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
  }
}

export class LocalRegistry {
  /** `127.0.0.1:PORT`, the registry part of image references. */
  host = "";
  /** PEM of the self-signed certificate when started with `tls`. */
  ca: string | undefined;
  private process: ChildProcess | undefined;
  private readonly accessLog: AccessLogEntry[] = [];
  private tokenServer: TokenServer | undefined;
  private front: http.Server | undefined;
  private registryPort = 0;
  private readonly agent: Agent;
  private authorization: string | undefined;
  private readonly stderrTail: string[] = [];
  /** Blobs already uploaded, by `repository@digest`: seeding many tags reuses layers and configs. */
  private readonly pushedBlobs = new Set<string>();

  private constructor(
    private readonly dir: string,
    readonly auth: RegistryAuth,
    readonly tls: boolean,
    tlsCa: string | undefined,
  ) {
    this.ca = tlsCa;
    this.agent = new Agent({ connect: tlsCa ? { ca: tlsCa } : {}, connections: 16 });
  }

  static async start(options: StartOptions = {}): Promise<LocalRegistry> {
    const availability = registryAvailability();
    if (!availability.available) throw new Error(availability.reason);
    const dir = await mkdtemp(path.join(os.tmpdir(), "digest-pin-registry-"));
    const auth = options.auth ?? "none";
    if (options.realmOnRegistryHost && (auth !== "token" || options.tls)) {
      throw new Error("realmOnRegistryHost needs the token variant without TLS");
    }
    const tlsPair = options.tls ? await selfSigned(dir, "registry", "ec") : undefined;
    const registry = new LocalRegistry(dir, auth, options.tls ?? false, tlsPair?.cert);
    try {
      await registry.launch(tlsPair, new Set(options.privateRepositories ?? []), options.realmOnRegistryHost ?? false);
    } catch (error) {
      await registry.stop();
      throw error;
    }
    return registry;
  }

  /** `http://` or `https://` and the host. */
  get url(): string {
    return `${this.tls ? "https" : "http"}://${this.host}`;
  }

  get tokenRealm(): string | undefined {
    return this.tokenServer?.realm;
  }

  /** Token requests the token server received (token variant only). */
  get tokenRequests(): readonly TokenRequestLog[] {
    return this.tokenServer?.log ?? [];
  }

  private async launch(
    tlsPair: { cert: string; key: string } | undefined,
    privateRepos: Set<string>,
    realmOnRegistryHost: boolean,
  ): Promise<void> {
    const config: Record<string, unknown> = {
      version: "0.1",
      log: { level: "info", accesslog: { disabled: false } },
      storage: {
        filesystem: { rootdirectory: path.join(this.dir, "data") },
        delete: { enabled: true },
        maintenance: { uploadpurging: { enabled: false } },
      },
      http: { addr: "127.0.0.1:0", secret: randomBytes(16).toString("hex") },
    };
    if (tlsPair) {
      await writeFile(path.join(this.dir, "tls.crt"), tlsPair.cert);
      await writeFile(path.join(this.dir, "tls.key"), tlsPair.key);
      (config.http as Record<string, unknown>).tls = {
        certificate: path.join(this.dir, "tls.crt"),
        key: path.join(this.dir, "tls.key"),
      };
    }
    if (this.auth === "basic") {
      await writeFile(path.join(this.dir, "htpasswd"), `${TEST_USER_HTPASSWD}\n`);
      config.auth = { htpasswd: { realm: "digest-pin-test", path: path.join(this.dir, "htpasswd") } };
    } else if (this.auth === "token") {
      const signing = await selfSigned(this.dir, "token-signer", "rsa");
      await writeFile(path.join(this.dir, "token-root.crt"), signing.cert);
      this.tokenServer = new TokenServer(signing.key, signing.cert, "digest-pin-test-issuer", "digest-pin-test-registry", privateRepos);
      await this.tokenServer.start();
      if (realmOnRegistryHost) this.tokenServer.realmPort = await this.startFront();
      config.auth = {
        token: {
          realm: this.tokenServer.realm,
          service: this.tokenServer.service,
          issuer: this.tokenServer.issuer,
          rootcertbundle: path.join(this.dir, "token-root.crt"),
        },
      };
    }
    // JSON is YAML, and spares us quoting rules.
    const configFile = path.join(this.dir, "config.yml");
    await writeFile(configFile, JSON.stringify(config, null, 2));

    const child = spawn(REGISTRY_BINARY, ["serve", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    this.process = child;
    // Never leave a registry behind if the test or benchmark process ends without stop().
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    child.once("exit", () => process.off("exit", killOnExit));
    // The access log (combined format) goes to stdout: count requests from it.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const m = /"([A-Z]+) (\S+) HTTP\/[\d.]+" (\d{3})/.exec(line);
      if (m) this.accessLog.push({ method: m[1] ?? "", path: m[2] ?? "", status: Number(m[3]) });
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`registry did not start: ${this.stderrTail.join("\n")}`)), 10_000);
      createInterface({ input: child.stderr! }).on("line", (line) => {
        this.stderrTail.push(line);
        if (this.stderrTail.length > 20) this.stderrTail.shift();
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`registry exited with ${code}: ${this.stderrTail.join("\n")}`));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    this.registryPort = port;
    this.host = `127.0.0.1:${this.tokenServer?.realmPort ?? port}`;
  }

  /** The front of `realmOnRegistryHost`: `/token…` to the token server, everything else to the registry. */
  private async startFront(): Promise<number> {
    const front = http.createServer((req, res) => {
      const port = req.url?.startsWith("/token") ? this.tokenServer?.port : this.registryPort;
      const upstream = http.request(
        { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    this.front = front;
    await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
    return (front.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited;
      clearTimeout(timer);
    }
    await this.tokenServer?.stop();
    const front = this.front;
    if (front) {
      front.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    }
    await this.agent.close();
    await rm(this.dir, { recursive: true, force: true });
  }

  /**
   * Requests the registry logged, after giving its access log a moment to catch up with answers already sent.
   * Seeding requests are included unless `clearRequests()` was called after seeding.
   */
  async requests(): Promise<AccessLogEntry[]> {
    let last = -1;
    while (last !== this.accessLog.length) {
      last = this.accessLog.length;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return [...this.accessLog];
  }

  clearRequests(): void {
    this.accessLog.length = 0;
  }

  // ---- seeding -------------------------------------------------------------------------------------------------

  /** A request as the test user with push rights, answering Basic or token challenges. */
  private async send(
    method: string,
    pathOrUrl: string,
    repository: string,
    body?: Buffer | string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
    const url = pathOrUrl.startsWith("http") ? pathOrUrl : `${this.url}${pathOrUrl}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      const all = { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) };
      const res = await request(url, { method: method as "GET", headers: all, body, dispatcher: this.agent });
      const buf = Buffer.from(await res.body.arrayBuffer());
      if (res.statusCode !== 401 || attempt > 0) return { status: res.statusCode, headers: res.headers, body: buf };
      const header = res.headers["www-authenticate"];
      const challenge = pickChallenge(parseWwwAuthenticate(Array.isArray(header) ? (header[0] ?? "") : (header ?? "")));
      const basic = `Basic ${Buffer.from(`${TEST_USER.username}:${TEST_USER.password}`).toString("base64")}`;
      if (challenge?.scheme === "basic") {
        this.authorization = basic;
      } else if (challenge?.scheme === "bearer" && challenge.params.realm) {
        const tokenUrl = new URL(challenge.params.realm);
        if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
        tokenUrl.searchParams.append("scope", `repository:${repository}:pull,push`);
        const tokenRes = await request(tokenUrl, { headers: { authorization: basic }, dispatcher: this.agent });
        const json = (await tokenRes.body.json()) as { token: string };
        this.authorization = `Bearer ${json.token}`;
      } else {
        throw new Error(`seeding ${url}: unexpected challenge ${String(header)}`);
      }
    }
    throw new Error("unreachable");
  }

  /** Upload a blob (POST an upload, then PUT its Location with the digest); returns its digest. */
  async pushBlob(repository: string, content: Buffer | string): Promise<string> {
    const digest = sha256(content);
    if (this.pushedBlobs.has(`${repository}@${digest}`)) return digest;
    const start = await this.send("POST", `/v2/${repository}/blobs/uploads/`, repository);
    const location = start.headers.location;
    if (start.status !== 202 || typeof location !== "string") {
      throw new Error(`blob upload to ${repository} failed to start: ${start.status} ${start.body.toString()}`);
    }
    const target = new URL(location, this.url);
    target.searchParams.set("digest", digest); // Location already carries a query (_state=…)
    const put = await this.send("PUT", target.href, repository, content, { "content-type": "application/octet-stream" });
    if (put.status !== 201) throw new Error(`blob PUT to ${repository} failed: ${put.status} ${put.body.toString()}`);
    this.pushedBlobs.add(`${repository}@${digest}`);
    return digest;
  }

  /** PUT a manifest under a tag or its digest; returns the digest the registry reports (checked against ours). */
  async pushManifest(repository: string, reference: string, body: string | Buffer, mediaType: string): Promise<string> {
    const res = await this.send("PUT", `/v2/${repository}/manifests/${reference}`, repository, body, {
      "content-type": mediaType,
    });
    if (res.status !== 201) throw new Error(`manifest PUT ${repository}:${reference} failed: ${res.status} ${res.body.toString()}`);
    const digest = res.headers["docker-content-digest"];
    if (digest !== sha256(body)) throw new Error(`registry reported ${String(digest)} for a manifest hashing to ${sha256(body)}`);
    return digest;
  }

  /** The raw manifest the registry serves for a tag or digest (with every media type accepted). */
  async getManifest(repository: string, reference: string): Promise<{ body: Buffer; mediaType: string; digest: string }> {
    const accept = Object.values(MEDIA_TYPES).join(", ");
    const res = await this.send("GET", `/v2/${repository}/manifests/${reference}`, repository, undefined, { accept });
    if (res.status !== 200) throw new Error(`GET ${repository}:${reference}: ${res.status}`);
    return { body: res.body, mediaType: String(res.headers["content-type"]), digest: String(res.headers["docker-content-digest"]) };
  }

  /** Point a tag at an existing manifest (by digest). */
  async retag(repository: string, tag: string, digest: string): Promise<void> {
    const m = await this.getManifest(repository, digest);
    await this.pushManifest(repository, tag, m.body, m.mediaType);
  }

  /**
   * Push an image under a tag: platform manifests and, for the index kinds, an OCI index or a Docker manifest list
   * over them. Layers and configs depend on the repository, platform and salt only, so tags of one repository share
   * them; each tag's manifests are still distinct (an annotation names the tag).
   */
  async pushImage(repository: string, tag: string, options: PushImageOptions): Promise<PushedImage> {
    const salt = options.salt ?? "";
    const docker = options.kind === "docker-list" || options.kind === "docker-manifest";
    const single = options.kind === "oci-manifest" || options.kind === "docker-manifest";
    const platforms = options.platforms ?? (single ? ["linux/amd64"] : ["linux/amd64", "linux/arm64/v8"]);
    const manifestType = docker ? MEDIA_TYPES.dockerManifest : MEDIA_TYPES.ociManifest;
    const children: Record<string, string> = {};
    const entries: Array<Record<string, unknown>> = [];
    for (const platform of single ? platforms.slice(0, 1) : platforms) {
      const [osName = "linux", architecture = "amd64", variant] = platform.split("/");
      const layer = Buffer.from(`layer ${repository} ${platform} ${salt}`);
      const layerDigest = await this.pushBlob(repository, layer);
      const config = JSON.stringify({
        architecture,
        os: osName,
        ...(variant ? { variant } : {}),
        ...(options.created ? { created: options.created } : {}),
        config: { Labels: { "digest-pin.test": `${repository} ${salt}`, ...options.labels } },
        rootfs: { type: "layers", diff_ids: [sha256(layer)] },
        history: [{ created_by: "digest-pin test harness" }],
      });
      const configDigest = await this.pushBlob(repository, config);
      const manifest = JSON.stringify({
        schemaVersion: 2,
        mediaType: manifestType,
        config: {
          mediaType: docker ? "application/vnd.docker.container.image.v1+json" : "application/vnd.oci.image.config.v1+json",
          digest: configDigest,
          size: Buffer.byteLength(config),
        },
        layers: [
          {
            mediaType: docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : "application/vnd.oci.image.layer.v1.tar",
            digest: layerDigest,
            size: layer.length,
          },
        ],
        annotations: { "org.opencontainers.image.ref.name": tag, "digest-pin.test.salt": salt },
      });
      if (single) {
        const digest = await this.pushManifest(repository, tag, manifest, manifestType);
        return { digest, mediaType: manifestType, children: { [platform]: digest } };
      }
      const digest = await this.pushManifest(repository, sha256(manifest), manifest, manifestType);
      children[platform] = digest;
      entries.push({
        mediaType: manifestType,
        digest,
        size: Buffer.byteLength(manifest),
        platform: { architecture, os: osName, ...(variant ? { variant } : {}) },
      });
    }
    const indexType = docker ? MEDIA_TYPES.dockerList : MEDIA_TYPES.ociIndex;
    // A Docker manifest list needs its mediaType field; OCI makes it optional but Distribution wants it too.
    const index = JSON.stringify({ schemaVersion: 2, mediaType: indexType, manifests: entries });
    const digest = await this.pushManifest(repository, tag, index, indexType);
    return { digest, mediaType: indexType, children };
  }
}

/** The digest skopeo (an independent client) reads for a tag of a plain-HTTP local registry. */
export async function skopeoDigest(host: string, repository: string, tag: string): Promise<string> {
  const { stdout } = await run(
    SKOPEO_BINARY,
    ["inspect", "--format", "{{.Digest}}", "--tls-verify=false", "--no-creds", `docker://${host}/${repository}:${tag}`],
    { timeout: 20_000 },
  );
  return stdout.trim();
}
