// The hidden, machine-readable part of a pull request body: a hint for later runs, never the authority. Whether the
// branch head is the app's own commit is GitHub's answer (ownership.ts); the marker only says cheaply whether that
// commit already carries the plan, which digests a closed pull request declined, and which references an open one
// proposes (so that a registry outage does not strip them). It is compact and bounded, whatever the plan's size:
// a hash of the plan and two lists of 40-bit hashes, at most MAX_KEYS each, so that a body always fits GitHub's limit
// and a squash commit that copies the body carries one short line.
//
//   <!-- digest-pin:plan v2 commit=<40 hex> plan=<32 hex> proposed=<base64> refs=<base64> [cut] [resolved] -->
//
// Bodies written by earlier versions (v1: base64 JSON with every change) are still read.

import { createHash } from "node:crypto";
import { z } from "zod";
import type { Change } from "../plan.js";

const PREFIX = "<!-- digest-pin:plan ";
const SUFFIX = " -->";
/** Hashes per list: beyond this the lists are cut (and `cut` set), which only ever makes the app more careful. */
export const MAX_KEYS = 1500;
/** 40 bits a key: a false match among 1,500 keys is about one in 700 million. */
const KEY_BYTES = 5;

export interface Marker {
  v: 2;
  /** The commit the app made for the branch when it wrote this body. */
  commit: string;
  /** planHash of what that commit rewrites. */
  plan: string;
  /** proposalKey of every digest proposed (what closing without merging declines). */
  proposed: string[];
  /** refKey of every reference rewritten. */
  refs: string[];
  /** The plan had more distinct proposals or references than MAX_KEYS: the lists are incomplete. */
  cut?: true;
  /** Set when the app itself closed the PR because nothing was left to change: that is not declining its digests. */
  resolved?: true;
  /** The app said in a comment that it could not enable auto-merge, so it does not say it again. */
  automergeNoticed?: true;
}

/** The base blob ids of the files a plan rewrites, and its changes: what decides whether two plans are the same. */
export interface PlanShape {
  files: Readonly<Record<string, string>>;
  changes: readonly Pick<Change, "path" | "line" | "from" | "to" | "newDigest">[];
}

function hash(text: string, hexChars: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, hexChars);
}

/** Code-unit order: localeCompare calls distinct strings equal (NFC/NFD forms, zero-width characters). */
const byCodeUnit = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/**
 * A digest of a plan: the same edits on the same base files give the same hash, in any order.
 *
 * @example planHash({ files: { Dockerfile: blob }, changes }) // "3f0c…" (32 hex digits)
 */
export function planHash(shape: PlanShape): string {
  const canonical = JSON.stringify({
    files: Object.entries(shape.files).sort(([x], [y]) => byCodeUnit(x, y)),
    changes: shape.changes.map((c) => JSON.stringify([c.path, c.line, c.from, c.to, c.newDigest])).sort(byCodeUnit),
  });
  return hash(canonical, 32);
}

/** @example proposalKey("docker.io/library/python", "3.12", "sha256:…") // "9a0b1c2d3e" */
export function proposalKey(image: string, tag: string, digest: string): string {
  return hash(`${image}:${tag}@${digest}`, KEY_BYTES * 2);
}

/** @example refKey("Dockerfile", "python:3.12") // "4f5e6d7c8b" */
export function refKey(path: string, from: string): string {
  return hash(`${path}\n${from}`, KEY_BYTES * 2);
}

/**
 * The marker for a commit that carries `shape`.
 *
 * @example markerFor(commitSha, { files, changes: plan.changes })
 */
export function markerFor(commit: string, shape: { files: PlanShape["files"]; changes: readonly Change[] }): Marker {
  const proposed = distinct(shape.changes.map((c) => proposalKey(c.image, c.tag, c.newDigest)));
  const refs = distinct(shape.changes.map((c) => refKey(c.path, c.from)));
  const marker: Marker = {
    v: 2,
    commit,
    plan: planHash(shape),
    proposed: proposed.slice(0, MAX_KEYS),
    refs: refs.slice(0, MAX_KEYS),
  };
  if (proposed.length > MAX_KEYS || refs.length > MAX_KEYS) marker.cut = true;
  return marker;
}

function distinct(keys: string[]): string[] {
  return [...new Set(keys)].sort(byCodeUnit);
}

/** Whether a marker proposes this digest for this image and tag. */
export function proposes(marker: Marker | null | undefined, image: string, tag: string, digest: string): boolean {
  return marker?.proposed.includes(proposalKey(image, tag, digest)) ?? false;
}

function packKeys(keys: readonly string[]): string {
  return Buffer.from(keys.join(""), "hex").toString("base64");
}

function unpackKeys(text: string): string[] | null {
  const hex = Buffer.from(text, "base64").toString("hex");
  if (hex.length % (KEY_BYTES * 2) !== 0 || Buffer.from(hex, "hex").toString("base64") !== text) return null;
  const out: string[] = [];
  for (let i = 0; i < hex.length; i += KEY_BYTES * 2) out.push(hex.slice(i, i + KEY_BYTES * 2));
  return out.length > MAX_KEYS ? null : out;
}

/** The marker as an HTML comment: only hex digits, base64 and words, so nothing in it can end the comment early. */
export function renderMarker(marker: Marker): string {
  const fields = [
    "v2",
    `commit=${marker.commit}`,
    `plan=${marker.plan}`,
    `proposed=${packKeys(marker.proposed)}`,
    `refs=${packKeys(marker.refs)}`,
    ...(marker.cut ? ["cut"] : []),
    ...(marker.resolved ? ["resolved"] : []),
    ...(marker.automergeNoticed ? ["automerge-noticed"] : []),
  ];
  return `${PREFIX}${fields.join(" ")}${SUFFIX}`;
}

const V2_RE =
  /^v2 commit=([0-9a-f]{40}) plan=([0-9a-f]{32}) proposed=([A-Za-z0-9+/=]*) refs=([A-Za-z0-9+/=]*)((?: (?:cut|resolved|automerge-noticed))*)$/;

const v1Schema = z.object({
  v: z.literal(1),
  commit: z.string(),
  files: z.record(z.string()),
  changes: z.array(
    z.object({
      path: z.string(),
      line: z.number(),
      image: z.string(),
      tag: z.string(),
      from: z.string(),
      to: z.string(),
      oldDigest: z.string().nullable(),
      newDigest: z.string(),
    }),
  ),
  resolved: z.literal(true).optional(),
});

/** The marker of a PR body, or null when there is none or it is damaged (a hint lost, never an error). */
export function readMarker(body: string | null | undefined): Marker | null {
  if (!body) return null;
  const start = body.lastIndexOf(PREFIX);
  if (start === -1) return null;
  const end = body.indexOf(SUFFIX, start + PREFIX.length);
  if (end === -1) return null;
  const text = body.slice(start + PREFIX.length, end);
  const v2 = V2_RE.exec(text);
  if (v2) {
    const [, commit = "", plan = "", proposed = "", refs = "", flags = ""] = v2;
    const proposedKeys = unpackKeys(proposed);
    const refKeys = unpackKeys(refs);
    if (!proposedKeys || !refKeys) return null;
    const marker: Marker = { v: 2, commit, plan, proposed: proposedKeys, refs: refKeys };
    const set = new Set(flags.trim().split(" "));
    if (set.has("cut")) marker.cut = true;
    if (set.has("resolved")) marker.resolved = true;
    if (set.has("automerge-noticed")) marker.automergeNoticed = true;
    return marker;
  }
  return readV1(text);
}

/** A v1 marker (base64 JSON of every change), as the v2 marker it means. */
function readV1(text: string): Marker | null {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text, "base64").toString("utf8"));
  } catch {
    return null;
  }
  const parsed = v1Schema.safeParse(json);
  if (!parsed.success) return null;
  const v1 = parsed.data;
  const marker: Marker = {
    v: 2,
    commit: v1.commit,
    plan: planHash(v1),
    proposed: distinct(v1.changes.map((c) => proposalKey(c.image, c.tag, c.newDigest))).slice(0, MAX_KEYS),
    refs: distinct(v1.changes.map((c) => refKey(c.path, c.from))).slice(0, MAX_KEYS),
  };
  if (v1.resolved) marker.resolved = true;
  return marker;
}

/** `body` with its (last) marker replaced by `marker`, or `marker` appended when it has none. */
export function replaceMarker(body: string, marker: Marker): string {
  const start = body.lastIndexOf(PREFIX);
  const end = start === -1 ? -1 : body.indexOf(SUFFIX, start + PREFIX.length);
  if (end === -1) return `${body}\n\n${renderMarker(marker)}`;
  return body.slice(0, start) + renderMarker(marker) + body.slice(end + SUFFIX.length);
}
