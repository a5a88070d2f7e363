import type { ImageReference } from "../reference.js";

/** Where a reference was found: a Dockerfile instruction, or `image` for a value in a YAML or JSON file. */
export type ReferenceKind = "from" | "copy-from" | "mount-from" | "syntax" | "image";
export type SkipReason =
  | "variable" // uses a variable whose value digest-pin cannot know
  | "invalid" // not a valid image reference, or written in a way that cannot be rewritten exactly
  | "build-arg" // built from ARGs that the repository passes at build time: a pin would silently override them
  | "ignored-inline" // a `digest-pin: ignore` comment on the line before or at the end of the line
  | "multiline"; // a YAML scalar spread over several lines (block, folded or continued): not rewritten

/** One image reference found in a file, with the exact byte range to rewrite. */
export interface FoundReference {
  kind: ReferenceKind;
  /** 1-based line where the reference text starts. */
  line: number;
  /** Byte offsets into the original file bytes (BOM included), end exclusive. */
  start: number;
  end: number;
  /**
   * The reference exactly as written, the bytes of [start, end) (for an ARG-default reference: the ARG's default
   * value). With `pin` set, a readable spelling of the reference instead (a kustomization's `newName:newTag`).
   */
  text: string;
  /** Parsed and normalized (after variable expansion); null when skipped. */
  reference: ImageReference | null;
  skip: SkipReason | null;
  /** Why it was skipped, for people. */
  skipDetail?: string;
  /** The literal `--platform` of the FROM (or of the FROMs using an ARG default), when it has no variables. */
  platform?: string;
  /** The global ARG whose default this reference is. */
  arg?: string;
  /** The reference after variable expansion, when `text` uses variables: `golang:${GO}-alpine` → `golang:1.22-alpine`. */
  expanded?: string;
  /** Where the digest is written when pinning does not rewrite [start, end) as `text@digest`. */
  pin?: PinSite;
}

/** Pinning writes `before + digest + after` over the bytes [start, end) (e.g. a kustomization's `digest:` value). */
export interface PinSite {
  start: number;
  end: number;
  before: string;
  after: string;
  /** The bytes [start, end) hold now ("" where the digest is inserted). */
  expected: string;
}

/** A byte-range replacement. */
export interface Edit {
  start: number;
  end: number;
  replacement: string;
  /** The text the range must still hold (what the scan read there); checked when given. */
  expected?: string;
}
