import type { ImageReference } from "../reference.js";

export type ReferenceKind = "from" | "copy-from" | "mount-from" | "syntax";
/** `ignored-inline`: a `digest-pin: ignore` comment excludes it (see ignore-comments.ts). */
export type SkipReason = "variable" | "invalid" | "ignored-inline";

/** One image reference found in a Dockerfile, with the exact byte range to rewrite. */
export interface FoundReference {
  kind: ReferenceKind;
  /** 1-based line where the reference text starts. */
  line: number;
  /** Byte offsets into the original file bytes (BOM included), end exclusive. */
  start: number;
  end: number;
  /** The reference exactly as written (for an ARG-default reference: the ARG's default value). */
  text: string;
  /** Parsed and normalized; null when it cannot be read as one (skipped as `variable` or `invalid`). */
  reference: ImageReference | null;
  skip: SkipReason | null;
  /** Why it was skipped, for people. */
  skipDetail?: string;
  /** The literal `--platform` of the FROM (or of the FROMs using an ARG default), when it has no variables. */
  platform?: string;
  /** The global ARG whose default this reference is. */
  arg?: string;
}

/** A byte-range replacement. */
export interface Edit {
  start: number;
  end: number;
  replacement: string;
  /** The text the range must still hold (what the scan read there); checked when given. */
  expected?: string;
}
