// Shared by the manager tests: fixtures as repository files, and the invariants every extraction keeps.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { expect } from "vitest";
import { applyEdits } from "../../src/dockerfile/rewrite.js";
import type { Edit, FoundReference } from "../../src/dockerfile/types.js";
import type { Extraction, Manager } from "../../src/managers/types.js";
import { pinnedTextFor } from "../../src/plan.js";

const FIXTURES = new URL("../fixtures/", import.meta.url).pathname;

/** Every file below test/fixtures/<kind>/, as repository paths (the kind's folder is the repository root). */
export function fixtures(kind: string): Map<string, Buffer> {
  const root = join(FIXTURES, kind);
  const out = new Map<string, Buffer>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const at = join(dir, name);
      if (statSync(at).isDirectory()) walk(at);
      else out.set(relative(root, at).split(sep).join("/"), readFileSync(at));
    }
  };
  walk(root);
  return out;
}

export function fixture(kind: string, path: string): Buffer {
  const bytes = fixtures(kind).get(path);
  if (!bytes) throw new Error(`no fixture ${kind}/${path}`);
  return bytes;
}

/**
 * Ranges inside the file, texts equal to their bytes (not for kustomization entries, whose text is spelled from
 * several keys: `spelled`), file order, no overlap.
 */
export function checkInvariants(bytes: Uint8Array, refs: readonly FoundReference[], spelled = false): void {
  let last = 0;
  for (const r of refs) {
    expect(r.start).toBeGreaterThanOrEqual(last);
    expect(r.end).toBeGreaterThanOrEqual(r.start);
    expect(r.end).toBeLessThanOrEqual(bytes.length);
    if (!r.pin && !spelled) expect(Buffer.from(bytes.subarray(r.start, r.end)).toString("utf8")).toBe(r.text);
    expect(r.line).toBeGreaterThanOrEqual(1);
    expect(r.skip === null).toBe(r.reference !== null);
    last = r.end;
  }
}

/** A distinct digest for each number. */
export const digest = (i: number): string => `sha256:${String(i).repeat(64).slice(0, 64)}`;

/** Extract with `manager`, checking the invariants. */
export function extractWith(manager: Manager, text: string | Buffer, path: string, spelled = false): Extraction {
  const bytes = Buffer.from(text);
  const out = manager.extract(bytes, { path });
  checkInvariants(bytes, out.references, spelled);
  return out;
}

/** The bytes between ranges (those a pin must not change). */
export { outside } from "../helpers/outside.js";

/** [line, text, skip] of each reference. */
export function brief(refs: readonly FoundReference[]): Array<[number, string, string | null]> {
  return refs.map((r) => [r.line, r.text, r.skip]);
}

/** The edit the plan makes to pin a reference to `digest`. */
export function pinEdit(r: FoundReference, digest: string): Edit {
  if (r.pin) return { start: r.pin.start, end: r.pin.end, replacement: `${r.pin.before}${digest}${r.pin.after}` };
  return { start: r.start, end: r.end, replacement: pinnedTextFor(r, digest) };
}

/** Pin every pinnable reference (digests from `digestOf`), and check that a new extraction finds them pinned. */
export function pinAndRescan(
  manager: Manager,
  path: string,
  bytes: Buffer,
  digestOf: (i: number) => string,
): { out: Buffer; refs: FoundReference[]; again: FoundReference[] } {
  const refs = manager.extract(bytes, { path }).references;
  const pinnable = refs.filter((r) => r.skip === null);
  const out = applyEdits(bytes, pinnable.map((r, i) => pinEdit(r, digestOf(i))));
  const again = manager.extract(out, { path }).references;
  checkInvariants(out, again);
  const pinnedAgain = again.filter((r) => r.skip === null);
  expect(pinnedAgain.map((r) => r.reference?.digest)).toEqual(pinnable.map((_, i) => digestOf(i)));
  expect(pinnedAgain.map((r) => [r.line, r.reference?.tag ?? null])).toEqual(pinnable.map((r) => [r.line, r.reference?.tag ?? "latest"]));
  return { out, refs, again };
}
