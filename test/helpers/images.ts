// Image references for property tests: registries, paths, tags and digests in every combination.

import { createHash } from "node:crypto";
import fc from "fast-check";

export const hex = (seed: string): string => createHash("sha256").update(seed).digest("hex");

/** References written as people write them, from the given registries (or none). */
export function imageArbitrary(registries: readonly string[]): fc.Arbitrary<string> {
  return fc
    .record({
      registry: fc.option(fc.constantFrom(...registries), { nil: undefined }),
      path: fc.array(fc.constantFrom("python", "alpine", "app", "node", "go-lang", "my_img", "x1", "team"), { minLength: 1, maxLength: 3 }),
      tag: fc.option(fc.constantFrom("3", "3.12-slim", "latest", "v1.2.3", "Tag_1"), { nil: undefined }),
      digest: fc.option(fc.integer(), { nil: undefined }),
    })
    .map(({ registry, path, tag, digest }) => {
      let text = [registry, ...path].filter(Boolean).join("/");
      if (tag !== undefined) text += `:${tag}`;
      if (digest !== undefined) text += `@sha256:${hex(String(digest))}`;
      return text;
    });
}
