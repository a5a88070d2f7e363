// minimumAge without starvation: a digest is adopted only once its image has been out for minimumAge. How long that
// is: since the app saw the tag move to it, when it did (whoever pushes an image chooses its `created`, so a tag taken
// over cannot make a new image look old); else its config's `created`, else when the app first saw it. When the
// tag's current digest is too new, the newest earlier digest of the same tag that is old enough, newer than the pin,
// and still served by digest is proposed instead, so a tag rebuilt every hour still gets proposals with
// `minimumAge: 3h`.

import type { Resolutions } from "./engine.js";
import { resolveRequests, type ScannedFile } from "./plan.js";
import { imageName } from "./reference.js";
import type { ImageInfo, Resolution, Resolver } from "./registry/types.js";
import type { SeenDigest, TagHistory } from "./state/tag-history.js";

export interface MinimumAgeOptions {
  minimumAgeMs: number;
  now: number;
  resolver: Resolver;
  /** Where seen digests are remembered; without it only images that say when they were built can be adopted. */
  history?: TagHistory;
}

export interface AgedResolutions {
  /** The answers, with a too-new tag digest replaced by an older one of the same tag where there is one. */
  resolutions: Resolutions;
  /** Digests still too young to adopt (unknown age counts as too young). */
  isTooNew: (image: string, tag: string, digest: string) => boolean;
}

/**
 * Apply minimumAge to a scan's registry answers.
 *
 * @example const { resolutions, isTooNew } = await applyMinimumAge(files, answers, { minimumAgeMs: 3 * 3600e3, now, resolver, history })
 */
export async function applyMinimumAge(
  files: readonly ScannedFile[],
  answers: Resolutions,
  options: MinimumAgeOptions,
): Promise<AgedResolutions> {
  const { minimumAgeMs, now, resolver, history } = options;
  const out: Resolutions = new Map(answers);
  const young = new Set<string>();
  const infos = new Map<string, Promise<ImageInfo | null>>();
  const info = (ref: Parameters<NonNullable<Resolver["imageInfo"]>>[0], digest: string): Promise<ImageInfo | null> => {
    const k = `${imageName(ref)}@${digest}`;
    let found = infos.get(k);
    if (!found) {
      // Unknown (the registry lost it, or cannot say) is null: such a digest is neither adopted nor trusted for age.
      found = resolver.imageInfo ? resolver.imageInfo(ref, digest).catch(() => null) : Promise.resolve(null);
      infos.set(k, found);
    }
    return found;
  };
  const histories = new Map<string, Promise<SeenDigest[]>>();

  await Promise.all(
    resolveRequests(files).map(async (request) => {
      const answer = answers.get(request.key);
      if (answer === undefined || answer instanceof Error) return;
      const ref = request.reference;
      const image = imageName(ref);
      const tag = ref.tag ?? "latest";
      const pinned = request.options.currentDigest;
      // The tag's own digest (not a platform manifest picked from it): only that one has a history to fall back on.
      // It is noted even when the pin is current, so that the app sees the tag move when it does.
      const tagDigest = pinned ? (await resolver.resolve(ref).catch(() => null))?.digest : answer.digest;
      const seenKey = `${image}:${tag}`;
      let seen = histories.get(seenKey);
      if (!seen) {
        seen = history && tagDigest ? history.record(image, tag, tagDigest).catch(() => []) : Promise.resolve([]);
        histories.set(seenKey, seen);
      }
      const record = await seen;
      if (answer.digest === pinned) return;
      const outSince = async (digest: string): Promise<number | null> => {
        const entry = record.find((e) => e.digest === digest);
        const created = (await info(ref, digest))?.created?.getTime();
        if (entry?.appeared) return Math.max(created ?? entry.firstSeen, entry.firstSeen);
        return created ?? entry?.firstSeen ?? null;
      };
      const oldEnough = (since: number | null) => since !== null && now - since >= minimumAgeMs;
      if (oldEnough(await outSince(answer.digest))) return;
      young.add(`${image}@${answer.digest}`);
      if (answer.digest !== tagDigest) return;

      const pinSince = pinned ? await outSince(pinned) : null;
      for (const candidate of [...record].reverse()) {
        if (candidate.digest === answer.digest || candidate.digest === pinned) continue;
        const since = await outSince(candidate.digest);
        if (!oldEnough(since) || (pinSince !== null && (since ?? 0) <= pinSince)) continue;
        const described = await info(ref, candidate.digest);
        if (!described) continue; // no longer served by digest
        const older: Resolution = { digest: candidate.digest, mediaType: described.mediaType };
        out.set(request.key, older);
        return;
      }
    }),
  );
  return { resolutions: out, isTooNew: (image, _tag, digest) => young.has(`${image}@${digest}`) };
}
