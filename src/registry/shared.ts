// Resolver layers: a memo for the length of one drift check (each distinct question asked once for the whole fleet),
// and a cache shared by replicas through a KeyValueStore (Redis). Failures are never remembered.

import type { KeyValueStore } from "../jobs/types.js";
import { formatReference, type ImageReference } from "../reference.js";
import { RegistryError } from "./types.js";
import type { ImageInfo, Resolution, ResolveOptions, Resolver } from "./types.js";

function questionKey(ref: ImageReference, options: ResolveOptions = {}): string {
  const o = options;
  return `${formatReference({ ...ref, digest: null })}|${o.currentDigest ?? ""}|${o.platform ?? ""}|${o.withPlatforms ? 1 : 0}`;
}

/** Remembers every answer (and the question in flight) until dropped: one drift check's view of the registries. */
export class MemoResolver implements Resolver {
  private readonly answers = new Map<string, Promise<Resolution>>();

  constructor(private readonly inner: Resolver) {}

  resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const current = options?.currentDigest;
    if (current && !options?.withPlatforms) {
      // A pin that is still the tag's digest asks nothing more: the answer is the tag's own. Without this, a tag
      // pinned in some repositories and not in others (or pinned to several digests) cost one request per variant.
      return this.ask(ref).then((tag) => (tag.digest === current ? tag : this.ask(ref, options)));
    }
    return this.ask(ref, options);
  }

  private ask(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const key = questionKey(ref, options);
    let answer = this.answers.get(key);
    if (!answer) {
      answer = this.inner.resolve(ref, options);
      this.answers.set(key, answer);
      // A failure may be passing: the next repository asks again.
      answer.catch(() => this.answers.delete(key));
    }
    return answer;
  }

  createdAt(ref: ImageReference, digest: string): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest) : Promise.resolve(null);
  }

  imageInfo(ref: ImageReference, digest: string): Promise<ImageInfo> {
    return passImageInfo(this.inner, ref, digest);
  }

  get size(): number {
    return this.answers.size;
  }
}

/** A tag → digest cache shared by every replica, in front of a registry client. */
export class SharedCacheResolver implements Resolver {
  constructor(
    private readonly inner: Resolver,
    private readonly store: KeyValueStore,
    private readonly ttlMs: number,
  ) {}

  async resolve(ref: ImageReference, options?: ResolveOptions): Promise<Resolution> {
    const key = `digest:${questionKey(ref, options)}`;
    const cached = await this.store.get(key).catch(() => null);
    if (cached) {
      try {
        return JSON.parse(cached) as Resolution;
      } catch {
        // A damaged entry is just a miss.
      }
    }
    const answer = await this.inner.resolve(ref, options);
    await this.store.set(key, JSON.stringify(answer), this.ttlMs).catch(() => undefined);
    return answer;
  }

  createdAt(ref: ImageReference, digest: string): Promise<Date | null> {
    return this.inner.createdAt ? this.inner.createdAt(ref, digest) : Promise.resolve(null);
  }

  imageInfo(ref: ImageReference, digest: string): Promise<ImageInfo> {
    return passImageInfo(this.inner, ref, digest);
  }
}

/** A layer's imageInfo: the inner resolver's (immutable answers, cached by the client itself). */
function passImageInfo(inner: Resolver, ref: ImageReference, digest: string): Promise<ImageInfo> {
  if (!inner.imageInfo) return Promise.reject(new RegistryError("INVALID_RESPONSE", "this resolver cannot describe images"));
  return inner.imageInfo(ref, digest);
}
