// The stand-in GitHub's half of the app manifest flow (https://docs.github.com/apps/sharing-github-apps/
// registering-a-github-app-from-a-manifest): the browser posts a manifest to `/settings/apps/new` or
// `/organizations/<org>/settings/apps/new?state=…`; GitHub registers the app (the real one first asks the person for a
// name) and sends the browser to `redirect_url?code=…&state=…`; the app exchanges the code once, within an hour, at
// `POST /app-manifests/{code}/conversions` for its id, private key and webhook secret. From then on the app's JWTs
// must be signed with that key (see `verifyAppJwt`).

import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from "node:crypto";

export interface Registration {
  manifest: Record<string, unknown>;
  /** The account that owns the app: the organization of the page the manifest was posted to, or the user. */
  owner: { login: string; type: "User" | "Organization" };
  state: string | null;
  code: string;
  converted: boolean;
  createdAt: number;
  webhookSecret: string;
  pem: string;
  clientId: string;
  clientSecret: string;
}

const CODE_TTL_MS = 3600_000;
const DEFAULT_EVENTS = new Set(["installation", "installation_repositories", "installation_target"]);
const LEVELS = new Set(["read", "write", "admin"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** GitHub's checks of a posted manifest: the first problem, or null. */
export function manifestProblem(manifest: unknown): string | null {
  if (!isObject(manifest)) return "The manifest must be a JSON object";
  if (typeof manifest.url !== "string" || !/^https?:\/\//.test(manifest.url)) return "url is required";
  const hook = manifest.hook_attributes;
  if (!isObject(hook) || typeof hook.url !== "string" || !/^https?:\/\//.test(hook.url)) return "hook_attributes.url is required";
  if (manifest.redirect_url !== undefined && (typeof manifest.redirect_url !== "string" || !/^https?:\/\//.test(manifest.redirect_url))) {
    return "redirect_url must be a URL";
  }
  if (manifest.public !== undefined && typeof manifest.public !== "boolean") return "public must be a boolean";
  const events = manifest.default_events ?? [];
  if (!Array.isArray(events) || events.some((e) => typeof e !== "string")) return "default_events must be a list of event names";
  const defaults = events.filter((e) => DEFAULT_EVENTS.has(e as string));
  if (defaults.length > 0) return `Default events unsupported: ${defaults.join(", ")}`;
  const permissions = manifest.default_permissions ?? {};
  if (!isObject(permissions)) return "default_permissions must be an object";
  for (const [name, level] of Object.entries(permissions)) {
    if (typeof level !== "string" || !LEVELS.has(level)) return `default_permissions.${name} must be read, write or admin`;
  }
  return null;
}

export class ManifestFlow {
  readonly registrations: Registration[] = [];
  /** The public key of the app last converted: app JWTs are checked against it from then on. */
  appKey: KeyObject | null = null;

  constructor(private readonly now: () => number) {}

  /** The browser posted `manifest` (form field) to the registration page; where GitHub sends the browser next. */
  register(form: Record<string, unknown>, owner: Registration["owner"], state: string | null): { location: string } | { problem: string } {
    let manifest: unknown;
    try {
      manifest = JSON.parse(String(form.manifest ?? ""));
    } catch {
      return { problem: "The manifest is not valid JSON" };
    }
    const problem = manifestProblem(manifest);
    if (problem) return { problem };
    const m = manifest as Record<string, unknown>;
    if (typeof m.redirect_url !== "string") return { problem: "redirect_url is required for this flow" };
    const pem = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }) as string;
    const code = randomBytes(10).toString("hex");
    this.registrations.push({
      manifest: m,
      owner,
      state,
      code,
      converted: false,
      createdAt: this.now(),
      webhookSecret: randomBytes(20).toString("hex"),
      pem,
      clientId: `Iv1.${randomBytes(8).toString("hex")}`,
      clientSecret: randomBytes(20).toString("hex"),
    });
    const location = new URL(m.redirect_url);
    location.searchParams.set("code", code);
    if (state !== null) location.searchParams.set("state", state);
    return { location: location.href };
  }

  /** `POST /app-manifests/{code}/conversions`: the registration, once, or null (GitHub answers 404). */
  convert(code: string): Registration | null {
    const r = this.registrations.find((x) => x.code === code);
    if (!r || r.converted || this.now() - r.createdAt > CODE_TTL_MS) return null;
    r.converted = true;
    this.appKey = createPublicKey(r.pem);
    return r;
  }
}

function base64url(text: string): Buffer {
  return Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
}

/**
 * Why GitHub would refuse this app JWT (RS256, signed with `key`, `iss` the app id or client id, not expired), or null.
 */
export function verifyAppJwt(token: string, key: KeyObject, issuers: readonly string[], nowMs: number): string | null {
  const [header, payload, signature] = token.split(".");
  if (header === undefined || payload === undefined || signature === undefined) return "A JSON web token could not be decoded";
  let claims: { iss?: unknown; exp?: unknown; iat?: unknown };
  let alg: unknown;
  try {
    alg = (JSON.parse(base64url(header).toString("utf8")) as { alg?: unknown }).alg;
    claims = JSON.parse(base64url(payload).toString("utf8")) as typeof claims;
  } catch {
    return "A JSON web token could not be decoded";
  }
  if (alg !== "RS256") return "A JSON web token could not be decoded";
  if (!verify("RSA-SHA256", Buffer.from(`${header}.${payload}`), key, base64url(signature))) {
    return "A JSON web token could not be decoded";
  }
  if (!issuers.includes(String(claims.iss))) return "'Issuer' claim ('iss') must be an Integer";
  if (typeof claims.exp !== "number" || claims.exp * 1000 <= nowMs) return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires";
  return null;
}
