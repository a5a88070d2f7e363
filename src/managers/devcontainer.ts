// Dev containers: the top-level `"image"` of `.devcontainer/devcontainer.json`, `.devcontainer.json` and
// `.devcontainer/<name>/devcontainer.json` (JSON with comments and trailing commas, read with jsonc-parser, whose
// nodes keep their offsets). `${localEnv:…}` and the like are variables; `// digest-pin: ignore` leaves it alone.

import { parseTree, printParseErrorCode, type Node, type ParseError } from "jsonc-parser";
import type { FoundReference } from "../dockerfile/types.js";
import { capReferences } from "./cap.js";
import { MAX_FILE_BYTES, MAX_FLOW_DEPTH } from "./limits.js";
import { decodeText, mentions, referenceAt, skippedFile, unrewritable } from "./source.js";
import type { Extraction, Manager } from "./types.js";
import { devcontainerVariable } from "./variables.js";

const PATH = /^(?:\.devcontainer\.json|\.devcontainer\/devcontainer\.json|\.devcontainer\/[^/]+\/devcontainer\.json)$/;

/** Unmatched `[`/`{` (strings included: an upper bound) before jsonc-parser, which recurses on nesting. */
function tooDeep(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123) {
      if (++depth > MAX_FLOW_DEPTH) return true;
    } else if ((c === 93 || c === 125) && depth > 0) depth--;
  }
  return false;
}

function extract(content: Uint8Array): Extraction {
  const src = decodeText(content, MAX_FILE_BYTES);
  if ("reason" in src) return skippedFile(src.reason, src.detail);
  if (tooDeep(src.text)) return skippedFile("too-complex", `objects and arrays nested more than ${MAX_FLOW_DEPTH} deep`);
  const errors: ParseError[] = [];
  // The BOM is a character to jsonc-parser too: offsets stay those of the text.
  const bom = src.text.startsWith("\uFEFF") ? 1 : 0;
  const root = parseTree(bom ? src.text.slice(1) : src.text, errors, { allowTrailingComma: true, disallowComments: false });
  const error = errors[0];
  if (error || root === undefined) {
    const what = error ? `${printParseErrorCode(error.error)} at offset ${error.offset}` : "empty";
    return skippedFile("unreadable", `not valid JSON with comments: ${what}`);
  }
  const references: FoundReference[] = [];
  const image = root.type === "object" ? root.children?.find((p) => p.children?.[0]?.value === "image")?.children?.[1] : undefined;
  if (image) references.push(imageReference(src, image, bom));
  return capReferences({ references });
}

/** The reference of the `"image"` value: inside its quotes, unless it is no plain string. */
function imageReference(src: Parameters<typeof referenceAt>[0], node: Node, bom: number): FoundReference {
  const start = node.offset + bom;
  const end = start + node.length;
  const inner = { start: start + 1, end: end - 1, after: end };
  if (node.type !== "string") return unrewritable(src, { start, end, after: end }, "invalid", `"image" is a ${node.type}, not a string`);
  if (src.text.slice(inner.start, inner.end) !== node.value) {
    return unrewritable(src, inner, "invalid", "the reference is written with escapes inside its quotes");
  }
  return referenceAt(src, inner, { marker: "//", variable: devcontainerVariable });
}

/** The dev container manager. */
export const devcontainerManager: Manager = {
  id: "devcontainer",
  title: "Dev containers",
  defaultPaths: [".devcontainer/devcontainer.json", ".devcontainer.json", ".devcontainer/*/devcontainer.json"],
  claims: (path) => PATH.test(path),
  extract: (content) => (mentions(content, "image") ? extract(content) : { references: [] }),
};
