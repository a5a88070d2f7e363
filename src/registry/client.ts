// The registry client: a tag → the digest its registry serves now, with one HEAD per lookup (Docker Hub does not
// count HEADs against its pull limit), a GET only when a digest header is missing, platforms are wanted, or a
// single-platform pin must follow its platform into a new index. Tags are read from the registry every time (a run
// remembers its own answers: MemoResolver in shared.ts); only what a digest names, which never changes, is cached.
// Every resolution has one deadline for all its requests (HEAD, GET, token, retries, redirects); work shared by
// several resolutions (a tag lookup, a manifest, a token) bounds its own time, each caller stops waiting for it at its
// own deadline, and a lookup nobody waits for any more is stopped.

import { Agent } from "undici";
import type { Dispatcher } from "undici";
import { rootCertificates } from "node:tls";
import { withDeadline } from "../deadline.js";
import { apiHost, imageName, isValidDigest } from "../reference.js";
import type { ImageReference } from "../reference.js";
import {
  MAX_TOKEN_CHARS,
  TokenProvider,
  basicAuthorization,
  parseTokenResponse,
  parseWwwAuthenticate,
  pickChallenge,
  realmCredential,
} from "./auth.js";
import type { Challenge, TokenAnswer, TokenKey, TokenRequest } from "./auth.js";
import { Inflight, TtlCache } from "./cache.js";
import { CredentialHelpers } from "./credential-helper.js";
import { CredentialStore, loadCredentials } from "./credentials.js";
import type { Credential, CredentialSource } from "./credentials.js";
import { Transport } from "./http.js";
import type { HttpResponse, RequestKind, TransportStats } from "./http.js";
import {
  MANIFEST_ACCEPT,
  bareMediaType,
  configInfo,
  configPlatform,
  indexPlatforms,
  isIndexType,
  isKnownManifestType,
  parseManifest,
  selectPlatform,
} from "./manifest.js";
import type { ConfigInfo, Manifest } from "./manifest.js";
import type { RegistryClientOptions } from "./options.js";
import { formatPlatform, parsePlatform, platformMatches } from "./platform.js";
import type { PlatformSpec } from "./platform.js";
import { HostPolicy } from "./policy.js";
import { errorMessageOf, verifiedDigest } from "./response.js";
import { MEDIA_TYPES, RegistryError, timeoutOf } from "./types.js";
import type { ImageInfo, LookupOptions, Resolution, ResolveOptions, Resolver } from "./types.js";

export { registryOptionsFromEnv, RegistryConfigError } from "./options.js";
export type { RegistryClientOptions, RegistryRequestInfo } from "./options.js";

export interface RegistryStats extends TransportStats {
  /** Tag lookups that joined an identical one already in flight instead of asking the registry again. */
  coalesced: number;
}

/** Where one reference's requests go. */
interface Target {
  /** `host[:port]` actually contacted: the API host (registry-1.docker.io) or a mirror. */
  host: string;
  repository: string;
  base: URL;
  /** For messages: `docker.io/library/python`, plus the mirror when one is used. */
  name: string;
}

type HostAuth = { kind: "bearer"; realm: URL; service: string | undefined } | { kind: "basic" };

/** A registry's credential and where it came from (for messages, which never show the credential). */
interface CredentialLookup {
  credential: Credential | undefined;
  source: CredentialSource;
}

const MIB = 1024 * 1024;
/** Defaults of the bounds on time and concurrency (documented in README's registry options and SECURITY.md). */
export const REGISTRY_DEFAULTS = {
  /** One reference: all its requests, retries, Retry-After waits and redirects together. */
  referenceTimeoutMs: 60_000,
  /** Requests in flight over all registries, for the whole process (the app and the CLI make one client). */
  maxConcurrency: 32,
  perHostConcurrency: 8,
} as const;
/** What the per-reference deadline is called in messages. */
const REFERENCE_BUDGET = "one reference (all its requests, retries and redirects)";
const TOKEN_BODY_LIMIT = MIB;
/** Manifests and configs fetched by digest never change; keep them longer than tags. */
const IMMUTABLE_TTL_MS = 60 * 60 * 1000;

const REPOSITORY_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

export class RegistryClient implements Resolver {
  private readonly policy: HostPolicy;
  private readonly transport: Transport;
  private readonly ownAgent: Agent | undefined;
  private readonly mirrors: ReadonlyMap<string, string>;
  private readonly maxManifestBytes: number;
  private readonly manifests = new TtlCache<string, Manifest>(IMMUTABLE_TTL_MS, 5_000);
  private readonly configs = new TtlCache<string, PlatformSpec | null>(IMMUTABLE_TTL_MS, 5_000);
  private readonly configInfos = new TtlCache<string, ConfigInfo>(IMMUTABLE_TTL_MS, 5_000);
  private readonly tagLookups = new Inflight<string, Resolution>();
  private readonly manifestLookups = new Inflight<string, Manifest>();
  private readonly tokens: TokenProvider;
  private readonly hostAuth = new Map<string, HostAuth>();
  private credentialStore: Promise<CredentialStore> | undefined;
  private readonly helpers: CredentialHelpers;
  private readonly referenceTimeoutMs: number;

  constructor(private readonly options: RegistryClientOptions = {}) {
    this.policy = new HostPolicy(options.insecureRegistries ?? []);
    this.mirrors = options.mirrors ?? new Map();
    this.maxManifestBytes = options.maxManifestBytes ?? 4 * MIB;
    const connectTimeoutMs = options.timeouts?.connectMs ?? 10_000;
    const perHostConcurrency = options.perHostConcurrency ?? REGISTRY_DEFAULTS.perHostConcurrency;
    this.referenceTimeoutMs = options.timeouts?.referenceMs ?? REGISTRY_DEFAULTS.referenceTimeoutMs;
    let dispatcher: Dispatcher | undefined = options.dispatcher;
    if (!dispatcher) {
      // Extra CAs are added to the public roots, not instead of them.
      const extra = options.ca === undefined ? [] : Array.isArray(options.ca) ? options.ca : [options.ca];
      const tls = extra.length > 0 ? { ca: [...rootCertificates, ...extra] as Array<string | Buffer> } : {};
      this.ownAgent = new Agent({
        connect: this.policy.connector({ timeout: connectTimeoutMs, ...tls }),
        connections: perHostConcurrency,
        keepAliveTimeout: 30_000,
      });
      dispatcher = this.ownAgent;
    }
    this.transport = new Transport({
      dispatcher,
      policy: this.policy,
      totalTimeoutMs: options.timeouts?.totalMs ?? 30_000,
      connectTimeoutMs,
      maxRetries: options.maxRetries ?? 3,
      retryBaseMs: options.retryBaseMs ?? 500,
      maxRetryDelayMs: options.maxRetryDelayMs ?? 30_000,
      perHostConcurrency,
      maxConcurrency: options.maxConcurrency ?? REGISTRY_DEFAULTS.maxConcurrency,
      userAgent: options.userAgent ?? "digest-pin/0.1",
      onRequest: options.onRequest,
    });
    // A token request may serve several resolutions: it gets a reference's budget of its own.
    this.tokens = new TokenProvider((request) => this.withinBudget(undefined, (signal) => this.fetchToken(request, signal)));
    this.helpers = new CredentialHelpers(options.credentialHelpers);
  }

  /**
   * The digest `ref`'s tag (or `latest`) points to now. A multi-arch tag gives its index digest, unless
   * `options.currentDigest` is a single-platform manifest: then the same platform's manifest from the tag's index.
   * Fails with TIMEOUT when its budget (`timeouts.referenceMs`) or `options.signal` runs out first.
   */
  async resolve(ref: ImageReference, options: ResolveOptions = {}): Promise<Resolution> {
    const tag = ref.tag ?? "latest";
    if (!REPOSITORY_RE.test(ref.repository)) throw new TypeError(`invalid repository name "${ref.repository}"`);
    if (!TAG_RE.test(tag)) throw new TypeError(`invalid tag "${tag}"`);
    const target = this.target(ref);
    const what = `${target.name}:${tag}`;
    return this.withinBudget(options.signal, (signal) => this.resolveWithin(ref, tag, target, what, options, signal), what);
  }

  private async resolveWithin(
    ref: ImageReference,
    tag: string,
    target: Target,
    what: string,
    options: ResolveOptions,
    signal: AbortSignal,
  ): Promise<Resolution> {
    const key = `${ref.registry}/${ref.repository}:${tag}`;
    // Asked of the registry each time: a tag moves. Identical lookups in flight at once share one request.
    const lookup = (shared: AbortSignal) => this.withinBudget(shared, (own) => this.lookupTag(target, tag, what, own));
    const resolution = await this.tagLookups.run(key, lookup, signal);

    const current = options.currentDigest;
    if (current && isValidDigest(current) && current !== resolution.digest && isIndexType(resolution.mediaType)) {
      return this.keepPlatformKind(target, what, resolution, current, options.platform, signal);
    }
    if (options.withPlatforms && isIndexType(resolution.mediaType) && !resolution.platforms) {
      const index = await this.manifestByDigest(target, resolution.digest, what, signal);
      return { ...resolution, platforms: indexPlatforms(index) };
    }
    return copyResolution(resolution);
  }

  /**
   * Run `work` within one reference's budget (and `parent`'s deadline); a deadline that ran out becomes TIMEOUT
   * naming `what` and the budget.
   */
  private async withinBudget<T>(
    parent: AbortSignal | undefined,
    work: (signal: AbortSignal) => Promise<T>,
    what?: string,
  ): Promise<T> {
    try {
      return await withDeadline(this.referenceTimeoutMs, REFERENCE_BUDGET, parent, work);
    } catch (error) {
      throw (what === undefined ? null : timeoutOf(what, error)) ?? error;
    }
  }

  /**
   * When the image `digest` names was built: its config's `created` (for an index, that of its linux/amd64 manifest,
   * else the first). Null when the image does not say. Used by minimumAge, so a freshly moved tag is not adopted at once.
   */
  async createdAt(ref: ImageReference, digest: string, options: LookupOptions = {}): Promise<Date | null> {
    return (await this.imageInfo(ref, digest, options)).created;
  }

  /**
   * Created time, OCI labels and platform manifests of the image `digest` names (for an index, the config of its
   * linux/amd64 manifest, else the first). Everything here is immutable, so it is cached like manifests by digest.
   * NOT_FOUND when the registry no longer has the manifest.
   */
  async imageInfo(ref: ImageReference, digest: string, options: LookupOptions = {}): Promise<ImageInfo> {
    const target = this.target(ref);
    const what = `${target.name}@${digest}`;
    return this.withinBudget(options.signal, (signal) => this.imageInfoWithin(target, digest, what, signal), what);
  }

  private async imageInfoWithin(target: Target, digest: string, what: string, signal: AbortSignal): Promise<ImageInfo> {
    const manifest = await this.manifestByDigest(target, digest, what, signal);
    let image = manifest;
    let manifests: ImageInfo["manifests"];
    if (isIndexType(manifest.mediaType)) {
      const entries = manifest.manifests.filter((d) => d.platform && d.platform.os !== "unknown");
      manifests = entries.map((d) => ({ platform: d.platform as PlatformSpec, digest: d.digest }));
      const child =
        entries.find((d) => d.platform?.os === "linux" && d.platform.architecture === "amd64") ?? entries[0];
      if (!child) return { mediaType: manifest.mediaType, created: null, labels: {}, manifests };
      image = await this.manifestByDigest(target, child.digest, what, signal);
    }
    const config = image.config ? await this.configInfoOf(target, image.config.digest, what, signal) : null;
    return {
      mediaType: manifest.mediaType,
      created: config?.created ?? null,
      labels: { ...(config?.labels ?? {}) },
      ...(manifests ? { manifests } : {}),
    };
  }

  /** An image config's created time and labels, or null when the registry does not serve it. */
  private async configInfoOf(target: Target, digest: string, what: string, signal: AbortSignal): Promise<ConfigInfo | null> {
    const key = `${target.host}/${target.repository}@${digest}`;
    const cached = this.configInfos.get(key);
    if (cached !== undefined) return cached;
    const label = `${what} (config)`;
    const res = await this.registryRequest(target, "GET", `blobs/${digest}`, "get", label, this.maxManifestBytes, signal);
    if (res.status < 200 || res.status >= 300) return null;
    verifiedDigest(res.body, undefined, digest, label);
    const info = configInfo(res.body);
    this.configInfos.set(key, info);
    return info;
  }

  /**
   * What a reference names now, checked with the registry (the CLI's `resolve`): a digest reference must exist there
   * (HEAD by digest, its Docker-Content-Digest checked); a tag gives what resolve() gives. With `platform`, that
   * platform's own manifest: picked from an index, or the image itself when it is for that platform.
   *
   * @example await client.inspect(ref("python:3.12"), parsePlatform("linux/arm64")) // { digest: "sha256:…", … }
   */
  async inspect(ref: ImageReference, platform?: PlatformSpec): Promise<Resolution> {
    const target = this.target(ref);
    const what = ref.digest !== null ? `${target.name}@${ref.digest}` : `${target.name}:${ref.tag ?? "latest"}`;
    const resolution =
      ref.digest !== null
        ? await this.withinBudget(undefined, (signal) => this.lookupDigest(target, ref.digest ?? "", what, signal), what)
        : await this.resolve(ref);
    if (!platform) return resolution;
    return this.withinBudget(undefined, (signal) => this.platformOf(target, resolution, platform, what, signal), what);
  }

  /** The `platform` manifest of what `resolution` names: picked from an index, or the image itself if it matches. */
  private async platformOf(
    target: Target,
    resolution: Resolution,
    platform: PlatformSpec,
    what: string,
    signal: AbortSignal,
  ): Promise<Resolution> {
    const manifest = await this.manifestByDigest(target, resolution.digest, what, signal);
    if (isIndexType(manifest.mediaType)) {
      const pick = selectPlatform(manifest, platform, what);
      return { digest: pick.digest, mediaType: pick.mediaType || MEDIA_TYPES.ociManifest };
    }
    const own = await this.platformOfManifest(target, manifest, resolution.digest, what, signal);
    if (own === null || !platformMatches(platform, own)) {
      const is = own === null ? "a single-platform image of unknown platform" : `a single-platform image for ${formatPlatform(own)}`;
      throw new RegistryError("PLATFORM_NOT_FOUND", `${what} is ${is}, not ${formatPlatform(platform)}`);
    }
    return { digest: resolution.digest, mediaType: manifest.mediaType };
  }

  /** A manifest by digest, HEAD only: that the registry has it, and its media type. */
  private async lookupDigest(target: Target, digest: string, what: string, signal: AbortSignal): Promise<Resolution> {
    const res = await this.registryRequest(target, "HEAD", `manifests/${digest}`, "head", what, 0, signal);
    if (res.status === 404) throw new RegistryError("NOT_FOUND", `no such manifest: ${what}`, 404);
    if (res.status < 200 || res.status >= 300) throw unexpectedStatus(what, res);
    const header = res.headers["docker-content-digest"];
    if (header && header !== digest) {
      throw new RegistryError("DIGEST_MISMATCH", `${what}: the registry answered for ${header} instead`);
    }
    const mediaType = bareMediaType(res.headers["content-type"]);
    if (header && isKnownManifestType(mediaType)) return { digest, mediaType };
    // No digest or type in the answer: read it, which checks its bytes against the digest.
    return { digest, mediaType: (await this.manifestByDigest(target, digest, what, signal)).mediaType };
  }

  /** Requests sent so far, by kind and host, and how often coalescing saved one. */
  stats(): RegistryStats {
    return { ...this.transport.stats(), coalesced: this.tagLookups.joined };
  }

  /**
   * Close the connections of the client's own Agent (a dispatcher passed in is the caller's to close). Requests still
   * in flight fail at once rather than holding the close for the rest of their budgets.
   */
  async close(): Promise<void> {
    this.manifests.clear();
    await this.ownAgent?.destroy();
  }

  private target(ref: ImageReference): Target {
    const mirror = this.mirrors.get(ref.registry);
    const base = this.policy.registryBaseUrl(mirror ?? apiHost(ref.registry));
    const name = imageName(ref) + (mirror ? ` (via mirror ${mirror})` : "");
    return { host: base.host, repository: ref.repository, base, name };
  }

  /** HEAD the tag; GET it only when the registry leaves out the digest or the media type. */
  private async lookupTag(target: Target, tag: string, what: string, signal: AbortSignal): Promise<Resolution> {
    const res = await this.registryRequest(target, "HEAD", `manifests/${tag}`, "head", what, 0, signal);
    if (res.status === 404) throw notFound(what, res);
    if (res.status >= 200 && res.status < 300) {
      const digest = res.headers["docker-content-digest"];
      const mediaType = bareMediaType(res.headers["content-type"]);
      if (digest && isValidDigest(digest) && isKnownManifestType(mediaType)) return { digest, mediaType };
    } else if (res.status !== 405) {
      throw unexpectedStatus(what, res);
    }
    return this.getTag(target, tag, what, signal);
  }

  private async getTag(target: Target, tag: string, what: string, signal: AbortSignal): Promise<Resolution> {
    const res = await this.registryRequest(target, "GET", `manifests/${tag}`, "get", what, this.maxManifestBytes, signal);
    if (res.status === 404) throw notFound(what, res);
    if (res.status < 200 || res.status >= 300) throw unexpectedStatus(what, res);
    const digest = verifiedDigest(res.body, res.headers["docker-content-digest"], undefined, what);
    const manifest = parseManifest(res.body, res.headers["content-type"], what);
    this.manifests.set(`${target.host}/${target.repository}@${digest}`, manifest);
    const resolution: Resolution = { digest, mediaType: manifest.mediaType };
    if (isIndexType(manifest.mediaType)) resolution.platforms = indexPlatforms(manifest);
    return resolution;
  }

  /** A manifest by digest: immutable, so cached, and checked against the digest it was asked by. */
  private manifestByDigest(target: Target, digest: string, what: string, signal: AbortSignal): Promise<Manifest> {
    const key = `${target.host}/${target.repository}@${digest}`;
    const cached = this.manifests.get(key);
    if (cached) return Promise.resolve(cached);
    const fetch = (shared: AbortSignal) =>
      this.withinBudget(shared, (own) => this.fetchManifest(target, digest, what, key, own));
    return this.manifestLookups.run(key, fetch, signal);
  }

  private async fetchManifest(
    target: Target,
    digest: string,
    what: string,
    key: string,
    signal: AbortSignal,
  ): Promise<Manifest> {
    const label = `${what} (${digest})`;
    const path = `manifests/${digest}`;
    const res = await this.registryRequest(target, "GET", path, "get", label, this.maxManifestBytes, signal);
    if (res.status === 404) {
      throw new RegistryError("NOT_FOUND", `${label}: the registry no longer has this manifest`, 404);
    }
    if (res.status < 200 || res.status >= 300) throw unexpectedStatus(label, res);
    verifiedDigest(res.body, res.headers["docker-content-digest"], digest, label);
    const manifest = parseManifest(res.body, res.headers["content-type"], label);
    this.manifests.set(key, manifest);
    return manifest;
  }

  /**
   * Refresh a pin that is not the tag's index: keep it when the new index still lists it; keep an index pin an index;
   * move a single-platform pin to the same platform's manifest in the new index.
   */
  private async keepPlatformKind(
    target: Target,
    what: string,
    tagResolution: Resolution,
    current: string,
    platformText: string | undefined,
    signal: AbortSignal,
  ): Promise<Resolution> {
    const index = await this.manifestByDigest(target, tagResolution.digest, what, signal);
    const listed = index.manifests.find((d) => d.digest === current);
    if (listed) return { digest: current, mediaType: listed.mediaType || tagResolution.mediaType };

    const wanted = parsePlatform(platformText);
    const old = await this.oldPin(target, current, what, wanted === null, signal);
    if (old === null) {
      // No evidence that the pin was one platform's manifest (a literal --platform says what the build wants, not what
      // was pinned): keep the tag's own kind, and say so.
      const note = `the pinned manifest ${current} is gone from the registry, so whether it was an index or one platform's manifest cannot be read: pinned to the tag's index`;
      return { ...copyResolution(tagResolution), note };
    }
    if (isIndexType(old.mediaType)) return copyResolution(tagResolution);
    let platform = wanted;
    if (platform === null && old?.manifest) {
      platform = await this.platformOfManifest(target, old.manifest, current, what, signal);
    }
    if (platform === null) {
      throw new RegistryError(
        "PLATFORM_NOT_FOUND",
        `${what}: cannot tell which platform the pinned manifest ${current} is for (its config names none); ` +
          "add --platform to the FROM line",
      );
    }
    const pick = selectPlatform(index, platform, `${what} (${tagResolution.digest})`);
    return { digest: pick.digest, mediaType: pick.mediaType || tagResolution.mediaType };
  }

  /** What the current pin is: its media type (and manifest when needed), or null when the registry lost it. */
  private async oldPin(
    target: Target,
    digest: string,
    what: string,
    needManifest: boolean,
    signal: AbortSignal,
  ): Promise<{ mediaType: string; manifest?: Manifest } | null> {
    try {
      if (!needManifest) {
        const label = `${what} (pinned ${digest})`;
        const res = await this.registryRequest(target, "HEAD", `manifests/${digest}`, "head", label, 0, signal);
        if (res.status === 404) return null;
        const mediaType = bareMediaType(res.headers["content-type"]);
        if (res.status >= 200 && res.status < 300 && isKnownManifestType(mediaType)) return { mediaType };
      }
      const manifest = await this.manifestByDigest(target, digest, what, signal);
      return { mediaType: manifest.mediaType, manifest };
    } catch (error) {
      if (error instanceof RegistryError && error.code === "NOT_FOUND") return null;
      throw error;
    }
  }

  /** The platform a single-platform manifest is for, from its image config. */
  private async platformOfManifest(
    target: Target,
    manifest: Manifest,
    digest: string,
    what: string,
    signal: AbortSignal,
  ): Promise<PlatformSpec | null> {
    const config = manifest.config;
    if (!config) return null;
    const key = `${target.host}/${target.repository}@${config.digest}`;
    const cached = this.configs.get(key);
    if (cached !== undefined) return cached;
    const label = `${what} (config of pinned ${digest})`;
    const path = `blobs/${config.digest}`;
    const res = await this.registryRequest(target, "GET", path, "get", label, this.maxManifestBytes, signal);
    if (res.status === 404) return null;
    if (res.status < 200 || res.status >= 300) throw unexpectedStatus(label, res);
    verifiedDigest(res.body, undefined, config.digest, label);
    const platform = configPlatform(res.body) ?? null;
    this.configs.set(key, platform);
    return platform;
  }

  /**
   * A request to the registry API with authentication: the scheme learned from earlier challenges is answered up
   * front; a 401 is answered once from its challenge; a second refusal is UNAUTHORIZED. The token scope is always pull
   * on the repository being resolved, whatever a challenge asks for.
   */
  private async registryRequest(
    target: Target,
    method: "GET" | "HEAD",
    path: string,
    kind: RequestKind,
    what: string,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<HttpResponse> {
    const url = new URL(`/v2/${target.repository}/${path}`, target.base);
    const scope = `repository:${target.repository}:pull`;
    const headers = { accept: path.startsWith("manifests/") ? MANIFEST_ACCEPT : "*/*" };
    const send = (authorization: string | undefined) =>
      this.transport.send({ method, url, kind, headers, authorization, maxBytes, what, signal });

    // Credentials are looked up only once the registry has asked for them (a helper runs only then).
    let lookup: CredentialLookup | undefined;
    const credentialLookup = async () => (lookup ??= await this.credentialFor(target));
    const known = await this.knownAuthorization(target, scope, credentialLookup, signal);
    let res = await send(known);
    if (res.status === 401) {
      if (res.url.origin !== url.origin) {
        // A redirect led elsewhere, and credentials (and tokens) do not follow redirects to other origins: answering
        // would only fetch a token for that host's realm and send it to ours.
        throw new RegistryError(
          "UNAUTHORIZED",
          `${what}: ${target.host} redirected to ${res.url.host}, which asks for authentication; a challenge from ` +
            "another host is not answered",
          401,
        );
      }
      const challenge = pickChallenge(parseWwwAuthenticate(res.headers["www-authenticate"] ?? ""));
      if (!challenge) {
        throw new RegistryError(
          "UNAUTHORIZED",
          `${what}: ${target.host} requires authentication but offers no scheme this client supports`,
          401,
        );
      }
      const answer = await this.answerChallenge(
        target,
        challenge,
        scope,
        what,
        known !== undefined,
        await credentialLookup(),
        signal,
      );
      res = await send(answer);
    }
    if (res.status === 401 || res.status === 403) throw this.refused(target, what, res, lookup);
    return res;
  }

  private async knownAuthorization(
    target: Target,
    scope: string,
    credentialLookup: () => Promise<CredentialLookup>,
    signal: AbortSignal,
  ): Promise<string | undefined> {
    const auth = this.hostAuth.get(target.host);
    if (!auth) return undefined;
    const { credential } = await credentialLookup();
    if (auth.kind === "basic") return credential && !identityOnly(credential) ? basicAuthorization(credential) : undefined;
    return `Bearer ${await this.tokens.token(this.tokenKey(target, auth.realm, auth.service, credential), scope, signal)}`;
  }

  /** Whose token: this registry's, from this realm, with the registry's credential only where realmCredential allows. */
  private tokenKey(target: Target, realm: URL, service: string | undefined, credential: Credential | undefined): TokenKey {
    return { registry: target.host, realm, service, credential: realmCredential(target.base, credential, realm) };
  }

  private async answerChallenge(
    target: Target,
    challenge: Challenge,
    scope: string,
    what: string,
    hadAuthorization: boolean,
    lookup: CredentialLookup,
    signal: AbortSignal,
  ): Promise<string> {
    const credential = lookup.credential;
    if (challenge.scheme === "basic") {
      if (!credential) {
        throw new RegistryError("UNAUTHORIZED", `${what}: ${target.host} requires credentials and ${noCredential(lookup, target.host)}`, 401);
      }
      if (identityOnly(credential)) {
        throw new RegistryError(
          "UNAUTHORIZED",
          `${what}: ${target.host} asks for Basic authentication, but ${whose(lookup, target.host)} are an identity token, ` +
            "which is only exchanged at a token realm",
          401,
        );
      }
      this.hostAuth.set(target.host, { kind: "basic" });
      return basicAuthorization(credential);
    }
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? "");
    } catch {
      throw new RegistryError("INVALID_RESPONSE", `${what}: ${target.host} names an invalid token realm`, 401);
    }
    try {
      this.policy.check(realm);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RegistryError("REFUSED_HOST", `${what}: token realm of ${target.host} refused: ${reason}`);
    }
    const service = challenge.params.service;
    this.hostAuth.set(target.host, { kind: "bearer", realm, service });
    // The challenge's own `scope` is ignored: it could ask for push, or for another repository.
    const key = this.tokenKey(target, realm, service, credential);
    // A token we sent was refused before its time: ask for a new one rather than reuse it.
    if (hadAuthorization) this.tokens.invalidate(key, scope);
    return `Bearer ${await this.tokens.token(key, scope, signal)}`;
  }

  private async fetchToken(
    { registry, realm, service, scopes, credential }: TokenRequest,
    signal: AbortSignal,
  ): Promise<TokenAnswer> {
    const url = new URL(realm.href);
    // Scopes are ours alone: a `scope` already in the realm URL would widen the token.
    url.searchParams.delete("scope");
    const what = `token for ${registry} from ${realm.host}`;
    const common = { url, kind: "token" as const, maxBytes: TOKEN_BODY_LIMIT, what, signal };
    let res: HttpResponse;
    if (credential?.identityToken) {
      // Docker's identity-token flow (distribution's fetchTokenWithOAuth): an OAuth2 refresh-token grant, POSTed.
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credential.identityToken });
      form.set("client_id", "digest-pin");
      if (service) form.set("service", service);
      form.set("scope", scopes.join(" "));
      res = await this.transport.send({
        ...common,
        method: "POST",
        headers: { accept: "application/json", "content-type": "application/x-www-form-urlencoded" },
        body: form.toString(),
      });
    } else {
      if (service) url.searchParams.set("service", service);
      for (const scope of scopes) url.searchParams.append("scope", scope);
      res = await this.transport.send({
        ...common,
        method: "GET",
        headers: { accept: "application/json" },
        authorization: credential ? basicAuthorization(credential) : undefined,
      });
    }
    const detail = errorMessageOf(res.body);
    if (res.status === 401 || res.status === 403) {
      throw new RegistryError(
        "UNAUTHORIZED",
        `${realm.host} refused ${credential ? `the credentials of ${registry}` : "an anonymous token"} (${res.status})` +
          (detail ? `: ${detail}` : ""),
        res.status,
      );
    }
    if (res.status !== 200) {
      throw new RegistryError("INVALID_RESPONSE", `${what}: answered ${res.status}` + (detail ? `: ${detail}` : ""), res.status);
    }
    const answer = parseTokenResponse(res.body.toString("utf8"));
    if (!answer) {
      throw new RegistryError(
        "INVALID_RESPONSE",
        `${what}: the answer carries no usable token (a "token" or "access_token" of at most ${MAX_TOKEN_CHARS} ` +
          "token characters)",
      );
    }
    return answer;
  }

  /** The final refusal, with a hint built from the credential lookup this request made (none when it made none). */
  private refused(target: Target, what: string, res: HttpResponse, lookup: CredentialLookup | undefined): RegistryError {
    const challenge = pickChallenge(parseWwwAuthenticate(res.headers["www-authenticate"] ?? ""));
    const reason = challenge?.params.error ? ` (${challenge.params.error})` : "";
    const detail = errorMessageOf(res.body);
    const credential = lookup?.credential;
    const auth = this.hostAuth.get(target.host);
    const withheld = credential && auth?.kind === "bearer" && !realmCredential(target.base, credential, auth.realm);
    const hint = !lookup
      ? `the repository may not exist, or ${target.host} refuses access without asking for credentials`
      : withheld
        ? `${whose(lookup, target.host)} are not sent to its token realm ${auth.realm.host} ` +
          "(another site, or plain HTTP from an https registry), so the token was asked for anonymously"
        : credential
          ? `${whose(lookup, target.host)} were not accepted`
          : `the repository may not exist, or needs credentials (${noCredential(lookup, target.host)})`;
    return new RegistryError(
      "UNAUTHORIZED",
      `${what}: access denied, ${res.status}${reason}${detail ? `: ${detail}` : ""}; ${hint}`,
      res.status,
    );
  }

  private credentials(): Promise<CredentialStore> {
    this.credentialStore ??= this.options.credentials
      ? Promise.resolve(this.options.credentials)
      : this.options.authFile
        ? loadCredentials(this.options.authFile)
        : Promise.resolve(CredentialStore.empty());
    return this.credentialStore;
  }

  /**
   * The credential for the registry being contacted, and no other: `target.host` is the host actually asked (a mirror,
   * not its upstream), so a helper is asked for exactly that registry, never for a realm's host.
   */
  private async credentialFor(target: Target): Promise<CredentialLookup> {
    const source = (await this.credentials()).source(target.host, target.repository);
    if (source.kind === "file") return { credential: source.credential, source };
    if (source.kind === "none") return { credential: undefined, source };
    return { credential: await this.helpers.get(source.helper, source.serverUrl), source };
  }
}

/** An identity token without a password: good for a token realm only, not for Basic. */
function identityOnly(credential: Credential): boolean {
  return credential.password === "" && Boolean(credential.identityToken);
}

/** Whose credential, for messages: `the credentials configured for ghcr.io`. */
function whose(lookup: CredentialLookup, host: string): string {
  const { source } = lookup;
  return source.kind === "helper"
    ? `the credentials docker-credential-${source.helper} gave for ${host}`
    : `the credentials configured for ${host}`;
}

/** Why there is no credential, for messages: `none are configured for ghcr.io`. */
function noCredential(lookup: CredentialLookup, host: string): string {
  const { source } = lookup;
  if (source.kind === "helper") return `docker-credential-${source.helper} has no credentials for ${host}`;
  if (source.kind === "none" && source.reason) return `none are usable for ${host}: ${source.reason}`;
  return `none are configured for ${host}`;
}

function copyResolution(r: Resolution): Resolution {
  const out: Resolution = { digest: r.digest, mediaType: r.mediaType };
  if (r.platforms) out.platforms = r.platforms.map((p) => ({ ...p }));
  return out;
}

function notFound(what: string, res: HttpResponse): RegistryError {
  const detail = errorMessageOf(res.body);
  return new RegistryError("NOT_FOUND", `no such tag: ${what}${detail ? ` (${detail})` : ""}`, 404);
}

function unexpectedStatus(what: string, res: HttpResponse): RegistryError {
  const detail = errorMessageOf(res.body);
  return new RegistryError(
    "INVALID_RESPONSE",
    `${what}: unexpected answer ${res.status} from ${res.url.host}${detail ? `: ${detail}` : ""}`,
    res.status,
  );
}
