// The digests a tag has pointed at, and when the app first saw each, for minimumAge without starvation: a tag rebuilt
// more often than minimumAge always points at an image too new to adopt, but an earlier digest of the same tag may be
// old enough. Kept in the KeyValueStore (memory, or Redis shared by replicas), bounded in entries a tag and in time.
// Losing it only delays a proposal; it is never a source of digests (each is checked at the registry before use).

import type { KeyValueStore } from "../jobs/types.js";

/** One digest a tag pointed at, and when it was first seen there (ms). */
export interface SeenDigest {
  digest: string;
  firstSeen: number;
  /**
   * The tag pointed at another digest when this one was first seen: the app saw it appear, so it cannot be older than
   * `firstSeen`, whatever its image's `created` says (which whoever pushed it chose).
   */
  appeared?: true;
}

/** Digests kept a tag: when more are seen, the one closest to its neighbours goes, so the rest stay spread in time. */
export const MAX_SEEN = 24;
/** A tag's record expires this long after it was last written, and older entries are dropped when read. */
export const HISTORY_TTL_MS = 90 * 24 * 3600 * 1000;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;

function key(image: string, tag: string): string {
  return `tag-history:${image}:${tag}`;
}

function parse(raw: string | null, now: number): SeenDigest[] {
  if (!raw) return [];
  try {
    const value = JSON.parse(raw) as { v?: unknown; seen?: unknown };
    if (value.v !== 1 || !Array.isArray(value.seen)) return [];
    return value.seen
      .filter(
        (e): e is SeenDigest =>
          typeof e === "object" && e !== null && typeof e.digest === "string" && DIGEST_RE.test(e.digest) &&
          typeof e.firstSeen === "number" && Number.isFinite(e.firstSeen) &&
          (e.appeared === undefined || e.appeared === true),
      )
      .filter((e) => now - e.firstSeen <= HISTORY_TTL_MS)
      .slice(-MAX_SEEN);
  } catch {
    return [];
  }
}

/** Drop entries until MAX_SEEN remain, each time the inner one whose neighbours are closest together. */
function thin(seen: SeenDigest[]): SeenDigest[] {
  const out = [...seen];
  while (out.length > MAX_SEEN) {
    let drop = 1;
    let gap = Number.POSITIVE_INFINITY;
    for (let i = 1; i < out.length - 1; i++) {
      const g = (out[i + 1] as SeenDigest).firstSeen - (out[i - 1] as SeenDigest).firstSeen;
      if (g < gap) [drop, gap] = [i, g];
    }
    out.splice(drop, 1);
  }
  return out;
}

export class TagHistory {
  constructor(
    private readonly store: KeyValueStore,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The digests seen for `image:tag`, oldest first.
   *
   * @example await history.seen("docker.io/library/python", "3.12") // [{ digest: "sha256:…", firstSeen: 1717… }]
   */
  async seen(image: string, tag: string): Promise<SeenDigest[]> {
    return parse(await this.store.get(key(image, tag)), this.clock());
  }

  /**
   * Note that `image:tag` points at `digest` now; returns the record with it. Two replicas noting at once may lose one
   * entry (the next scan notes it again, a little later): the record is a cache of observations.
   */
  async record(image: string, tag: string, digest: string): Promise<SeenDigest[]> {
    const now = this.clock();
    const seen = await this.seen(image, tag);
    if (seen.some((e) => e.digest === digest) || !DIGEST_RE.test(digest)) return seen;
    const entry: SeenDigest = seen.length > 0 ? { digest, firstSeen: now, appeared: true } : { digest, firstSeen: now };
    const next = thin([...seen, entry]);
    await this.store.set(key(image, tag), JSON.stringify({ v: 1, seen: next }), HISTORY_TTL_MS);
    return next;
  }
}
