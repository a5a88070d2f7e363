// A programmable registry (and token server) on undici's MockAgent, for behaviours a real registry will not show:
// missing or lying digest headers, rate limits, redirects to private addresses, foreign token realms.

import { createHash } from "node:crypto";
import { MockAgent } from "undici";
import type { MockInterceptor } from "undici/types/mock-interceptor.js";
import { MEDIA_TYPES } from "../../src/registry/types.js";

export interface SeenRequest {
  origin: string;
  method: string;
  path: string;
  headers: Record<string, string>;
}

export interface Reply {
  status: number;
  body?: string | Buffer | object;
  headers?: Record<string, string>;
}

export type Handler = (req: SeenRequest) => Reply | undefined;

export function sha256(data: string | Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function normalizeHeaders(raw: MockInterceptor.MockResponseCallbackOptions["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length; i += 2) out[String(raw[i]).toLowerCase()] = String(raw[i + 1]);
  } else if (raw instanceof Headers) {
    raw.forEach((v, k) => (out[k.toLowerCase()] = v));
  } else {
    for (const [k, v] of Object.entries(raw as Record<string, string>)) out[k.toLowerCase()] = String(v);
  }
  return out;
}

/** A MockAgent that refuses the network and records every request it answers. */
export class MockNet {
  readonly agent = new MockAgent({ enableCallHistory: true });
  readonly seen: SeenRequest[] = [];

  constructor() {
    this.agent.disableNetConnect();
  }

  /** Answer every request to an origin with `handler` (404 when it returns undefined). */
  serve(origin: string, handler: Handler, delayMs = 0): void {
    const scope = this.agent
      .get(origin)
      .intercept({ path: () => true, method: () => true })
      .reply((opts) => {
        const req: SeenRequest = { origin, method: opts.method, path: opts.path, headers: normalizeHeaders(opts.headers) };
        this.seen.push(req);
        const reply: Reply = handler(req) ?? { status: 404, body: { errors: [{ code: "NOT_FOUND", message: "not here" }] } };
        const data =
          reply.body === undefined
            ? ""
            : typeof reply.body === "string" || Buffer.isBuffer(reply.body)
              ? reply.body
              : JSON.stringify(reply.body);
        return { statusCode: reply.status, data, responseOptions: { headers: reply.headers ?? {} } };
      });
    if (delayMs > 0) scope.delay(delayMs);
    scope.persist();
  }

  /** Requests dispatched to an origin, answered or not (MockAgent's call history). */
  callsTo(origin: string): number {
    return (this.agent.getCallHistory()?.calls() ?? []).filter((c) => c.origin === origin).length;
  }

  requestsTo(origin: string): SeenRequest[] {
    return this.seen.filter((r) => r.origin === origin);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

interface StoredManifest {
  body: string;
  mediaType: string;
}

export interface FakeRegistryOptions {
  /** `bearer`: 401 with a challenge for `realm` unless `Bearer <token>`; `basic`: needs `basicAuth`. */
  auth?: { kind: "bearer"; realm: string; service: string; token: string } | { kind: "basic"; authorization: string };
  /** Leave Docker-Content-Digest out of every answer. */
  omitDigest?: boolean;
}

/** Manifests, blobs and tags behind the Distribution API paths, on a MockNet origin. */
export class FakeRegistry {
  readonly manifests = new Map<string, StoredManifest>();
  readonly blobs = new Map<string, string>();
  readonly tags = new Map<string, string>();
  /** Replace the answer to one request (return undefined to fall through to normal handling). */
  override: Handler | undefined;
  options: FakeRegistryOptions;

  constructor(
    readonly net: MockNet,
    readonly origin: string,
    options: FakeRegistryOptions = {},
    delayMs = 0,
  ) {
    this.options = options;
    net.serve(origin, (req) => this.handle(req), delayMs);
  }

  addBlob(content: string): string {
    const digest = sha256(content);
    this.blobs.set(digest, content);
    return digest;
  }

  addManifest(body: string, mediaType: string): string {
    const digest = sha256(body);
    this.manifests.set(digest, { body, mediaType });
    return digest;
  }

  /** A platform manifest with a config naming its platform; returns its digest. */
  addPlatformManifest(platform: string, salt = "", kind: "oci" | "docker" = "oci"): string {
    const [os = "linux", architecture = "amd64", variant] = platform.split("/");
    const config = JSON.stringify({ os, architecture, ...(variant ? { variant } : {}), salt });
    const configDigest = this.addBlob(config);
    const mediaType = kind === "oci" ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest;
    return this.addManifest(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: configDigest, size: config.length },
        layers: [],
      }),
      mediaType,
    );
  }

  /** An index over fresh platform manifests; returns the index digest and the children by platform. */
  addIndex(platforms: string[], salt = "", kind: "oci" | "docker" = "oci"): { digest: string; children: Record<string, string> } {
    const children: Record<string, string> = {};
    const manifests = platforms.map((p) => {
      const digest = this.addPlatformManifest(p, salt, kind);
      children[p] = digest;
      const [os, architecture, variant] = p.split("/");
      const body = this.manifests.get(digest)?.body ?? "";
      return {
        mediaType: kind === "oci" ? MEDIA_TYPES.ociManifest : MEDIA_TYPES.dockerManifest,
        digest,
        size: body.length,
        platform: { os, architecture, ...(variant ? { variant } : {}) },
      };
    });
    const mediaType = kind === "oci" ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.dockerList;
    const digest = this.addManifest(JSON.stringify({ schemaVersion: 2, mediaType, manifests }), mediaType);
    return { digest, children };
  }

  tag(repository: string, tag: string, digest: string): void {
    this.tags.set(`${repository}:${tag}`, digest);
  }

  private handle(req: SeenRequest): Reply | undefined {
    const overridden = this.override?.(req);
    if (overridden) return overridden;
    const auth = this.options.auth;
    if (auth?.kind === "bearer" && req.headers.authorization !== `Bearer ${auth.token}`) {
      const repo = /^\/v2\/(.+)\/(manifests|blobs)\//.exec(req.path)?.[1] ?? "";
      return {
        status: 401,
        headers: {
          "www-authenticate": `Bearer realm="${auth.realm}",service="${auth.service}",scope="repository:${repo}:pull"`,
        },
        body: { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] },
      };
    }
    if (auth?.kind === "basic" && req.headers.authorization !== auth.authorization) {
      return { status: 401, headers: { "www-authenticate": 'Basic realm="fake"' } };
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/?]+)$/.exec(req.path);
    if (!m) return undefined;
    const [, repository, kind, reference = ""] = m;
    if (kind === "blobs") {
      const blob = this.blobs.get(reference);
      if (!blob) return { status: 404, body: { errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] } };
      return { status: 200, body: req.method === "HEAD" ? "" : blob, headers: { "docker-content-digest": reference } };
    }
    const digest = reference.includes(":") ? reference : this.tags.get(`${repository}:${reference}`);
    const manifest = digest ? this.manifests.get(digest) : undefined;
    if (!digest || !manifest) {
      return { status: 404, body: { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] } };
    }
    const headers: Record<string, string> = { "content-type": manifest.mediaType };
    if (!this.options.omitDigest) headers["docker-content-digest"] = digest;
    return { status: 200, body: req.method === "HEAD" ? "" : manifest.body, headers };
  }
}
