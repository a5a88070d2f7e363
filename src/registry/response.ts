// Reading registry answers safely: bounded bodies, digests checked against the bytes, error bodies turned into
// short messages a user can read.

import { createHash, getHashes } from "node:crypto";
import type { Readable } from "node:stream";
import { RegistryError } from "./types.js";

/** Read a body, giving up (and closing the stream) as soon as it exceeds `maxBytes`. */
export async function readLimited(body: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer);
    total += buf.length;
    if (total > maxBytes) {
      body.destroy();
      throw new RegistryError("TOO_LARGE", `${what} is larger than ${formatBytes(maxBytes)}`);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks, total);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

const HASHES: Record<string, string> = { sha256: "sha256", sha384: "sha384", sha512: "sha512" };

/** `algorithm:hex` of some bytes; the algorithm defaults to sha256. */
export function digestOf(body: Uint8Array, algorithm = "sha256"): string {
  const hash = HASHES[algorithm];
  if (hash === undefined || !getHashes().includes(hash)) {
    throw new RegistryError("INVALID_RESPONSE", `unsupported digest algorithm "${algorithm}"`);
  }
  return `${algorithm}:${createHash(hash).update(body).digest("hex")}`;
}

/**
 * The digest of a body that came with an optional `Docker-Content-Digest` and, when fetched by digest, an expected
 * digest. Any disagreement is DIGEST_MISMATCH: a registry that lies about digests must never produce a pin.
 */
export function verifiedDigest(
  body: Uint8Array,
  header: string | undefined,
  expected: string | undefined,
  what: string,
): string {
  const hashAs = (claimed: string) => digestOf(body, claimed.slice(0, Math.max(0, claimed.indexOf(":"))));
  if (header !== undefined && header !== "" && hashAs(header) !== header) {
    throw new RegistryError(
      "DIGEST_MISMATCH",
      `${what}: the registry says its digest is ${header}, but the content hashes to ${hashAs(header)}`,
    );
  }
  if (expected !== undefined && hashAs(expected) !== expected) {
    throw new RegistryError("DIGEST_MISMATCH", `${what}: asked for ${expected}, but the content hashes to ${hashAs(expected)}`);
  }
  return expected ?? (header || digestOf(body));
}

/** Strip control characters and cut long text, so a registry's message is safe to print. */
export function cleanText(text: string, max = 300): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** The message of an OCI error body `{"errors":[{"code","message"}]}`, or a short excerpt of any other text. */
export function errorMessageOf(body: Uint8Array | undefined): string | null {
  if (!body || body.length === 0) return null;
  const text = Buffer.from(body).toString("utf8");
  try {
    const json = JSON.parse(text) as { errors?: Array<{ code?: unknown; message?: unknown }> };
    if (Array.isArray(json.errors) && json.errors.length > 0) {
      const parts = json.errors.map((e) =>
        [typeof e.code === "string" ? e.code : null, typeof e.message === "string" ? e.message : null]
          .filter(Boolean)
          .join(": "),
      );
      const joined = parts.filter((p) => p !== "").join("; ");
      if (joined !== "") return cleanText(joined);
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  if (/^\s*</.test(text)) return null; // an HTML error page says nothing useful in one line
  return cleanText(text, 200) || null;
}
