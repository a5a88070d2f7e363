// What a reviewer needs about each update, from the registry: when the old and new images were built, their OCI
// labels and platforms (imageInfo, immutable and cached by the client). And the platform-aware rule: a refresh of an
// index whose manifests for the repository's platforms are unchanged (only other platforms, or attestations, moved)
// proposes nothing anyone builds, so it is held back. Only updates are looked at: a repository with nothing to change
// costs no request here.

import type { Change, ImageFacts } from "./plan.js";
import { parseReference } from "./reference.js";
import { formatPlatform, parsePlatform, platformMatches } from "./registry/platform.js";
import type { ImageInfo, Resolver } from "./registry/types.js";

/** imageInfo of the old and new digest of every update, by `image@digest` (null where the registry could not say). */
export type ImageInfos = ReadonlyMap<string, ImageInfo | null>;

function infoKey(image: string, digest: string): string {
  return `${image}@${digest}`;
}

/**
 * Ask the registry about both images of every update, each distinct digest once.
 *
 * @example const infos = await describeUpdates(plan.changes, resolver)
 */
export async function describeUpdates(changes: readonly Change[], resolver: Resolver): Promise<ImageInfos> {
  const wanted = new Map<string, { image: string; digest: string }>();
  for (const c of changes) {
    if (c.oldDigest === null) continue;
    for (const digest of [c.oldDigest, c.newDigest]) wanted.set(infoKey(c.image, digest), { image: c.image, digest });
  }
  const out = new Map<string, ImageInfo | null>();
  await Promise.all(
    [...wanted].map(async ([key, { image, digest }]) => {
      const ref = parseReference(image);
      const info = ref.ok && resolver.imageInfo ? await resolver.imageInfo(ref.value, digest).catch(() => null) : null;
      out.set(key, info);
    }),
  );
  return out;
}

function facts(info: ImageInfo | null | undefined): ImageFacts | undefined {
  if (!info) return undefined;
  const out: ImageFacts = { labels: info.labels };
  if (info.created) out.created = info.created.toISOString();
  if (info.manifests) out.platforms = [...new Set(info.manifests.map((m) => formatPlatform(m.platform)))];
  return out;
}

/** The changes with what the registry said about their images. */
export function withReview(changes: readonly Change[], infos: ImageInfos): Change[] {
  return changes.map((c) => {
    if (c.oldDigest === null) return c;
    const before = facts(infos.get(infoKey(c.image, c.oldDigest)));
    const after = facts(infos.get(infoKey(c.image, c.newDigest)));
    if (!before && !after) return c;
    const platforms = c.platforms ?? after?.platforms;
    return {
      ...c,
      ...(platforms ? { platforms } : {}),
      review: { ...(before ? { old: before } : {}), ...(after ? { new: after } : {}) },
    };
  });
}

/**
 * A `hold` for the plan: a refresh between two indexes whose manifests for every platform that matters are the same.
 * What matters is the FROM's own `--platform`, else the `platforms:` config; with neither, every platform does and
 * nothing is held.
 *
 * @example plan(files, answers, { ...options, hold: unchangedForPlatforms(["linux/amd64"], infos) })
 */
export function unchangedForPlatforms(platforms: readonly string[], infos: ImageInfos) {
  return (change: Change): { reason: "platforms-unchanged"; detail: string } | null => {
    if (change.oldDigest === null) return null;
    const wanted = (change.platform ? [change.platform] : platforms).map(parsePlatform);
    if (wanted.length === 0 || wanted.some((p) => p === null)) return null;
    const before = infos.get(infoKey(change.image, change.oldDigest))?.manifests;
    const after = infos.get(infoKey(change.image, change.newDigest))?.manifests;
    if (!before || !after) return null;
    const digestFor = (list: NonNullable<ImageInfo["manifests"]>, want: NonNullable<(typeof wanted)[number]>) => {
      const found = list.filter((m) => platformMatches(want, m.platform)).map((m) => m.digest);
      return found.length === 1 ? found[0] : undefined;
    };
    for (const want of wanted) {
      if (!want) return null;
      const a = digestFor(before, want);
      if (a === undefined || a !== digestFor(after, want)) return null;
    }
    const names = wanted.map((p) => (p ? formatPlatform(p) : "")).join(", ");
    return { reason: "platforms-unchanged", detail: `${change.newDigest} changes nothing for ${names}` };
  };
}
