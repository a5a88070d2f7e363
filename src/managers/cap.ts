// The last step of every extraction: file order, one reference per range (an anchor used by several services is
// one reference, at the anchor), and the bound on references per file.

import type { FoundReference } from "../dockerfile/types.js";
import { MAX_REFERENCES } from "./limits.js";
import { skippedFile } from "./source.js";
import type { Extraction } from "./types.js";

/**
 * The extraction with its references sorted and deduplicated, or the file skipped when it has too many.
 *
 * @example
 * capReferences({ references: [b, a, a] }).references // [a, b]
 */
export function capReferences(extraction: Extraction): Extraction {
  const seen = new Set<string>();
  const references: FoundReference[] = [];
  for (const ref of [...extraction.references].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const key = `${ref.start}:${ref.end}:${ref.pin?.start ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    references.push(ref);
  }
  if (references.length > MAX_REFERENCES) {
    return skippedFile("too-complex", `more than ${MAX_REFERENCES} image references in one file`);
  }
  return { ...extraction, references };
}
