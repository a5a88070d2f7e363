// Every state of the pull request lifecycle as one row: what GitHub says, what the plan wants, the body's marker, and
// the one action that follows. The decision is pure; the end-to-end behaviour is in test/app/lifecycle.test.ts.
import { describe, expect, it } from "vitest";
import { decide, FOREIGN_DETAIL, type Action, type LifecycleSnapshot, type LifecycleWant } from "../../src/github/lifecycle/decide.js";
import { refKey, type Marker } from "../../src/github/marker.js";

const HEAD = "a".repeat(40);
const OTHER = "b".repeat(40);
const PLAN = "c".repeat(32);
const PULL = { number: 7, url: "https://github.com/acme/app/pull/7" };
const FAILED = refKey("Dockerfile", "node:20");

const snapshot = (over: Partial<LifecycleSnapshot> = {}): LifecycleSnapshot => ({
  branch: "digest-pin/main",
  open: PULL,
  head: HEAD,
  ours: true,
  inBase: false,
  recreate: false,
  ...over,
});
const want = (over: Partial<LifecycleWant> = {}): LifecycleWant => ({ changes: 2, plan: PLAN, unscanned: 0, failed: [], ...over });
const marker = (over: Partial<Marker> = {}): Marker => ({ v: 2, commit: HEAD, plan: PLAN, proposed: [], refs: [FAILED], ...over });

const WRITE_OPEN: Action = { kind: "write", pull: PULL, branchExists: true };
const FOREIGN: Action = { kind: "blocked", pull: PULL, detail: FOREIGN_DETAIL, notice: { head: HEAD } };
const SCAN_BLOCK = (n: number): Action => ({
  kind: "blocked",
  pull: PULL,
  detail: `${n} file${n === 1 ? "" : "s"} could not be scanned, so the pull request stays as it is until ${n === 1 ? "it can" : "they can"} be`,
});
const REGISTRY_BLOCK: Action = {
  kind: "blocked",
  pull: PULL,
  detail: "1 reference could not be resolved, so the pull request stays as it is until the registry answers",
};

const rows: [string, LifecycleSnapshot, LifecycleWant, Marker | null, Action][] = [
  // open
  ["no pull request, no branch, changes: open one", snapshot({ open: null, head: null, ours: false }), want(), null, { kind: "write", pull: null, branchExists: false }],
  ["no pull request, nothing to change: nothing", snapshot({ open: null, head: null, ours: false }), want({ changes: 0 }), null, { kind: "none" }],
  ["a leftover branch of our own: reuse it", snapshot({ open: null }), want(), null, { kind: "write", pull: null, branchExists: true }],
  ["a merged pull request's kept branch: reuse it", snapshot({ open: null, ours: false, inBase: true }), want(), null, { kind: "write", pull: null, branchExists: true }],
  [
    "a leftover branch with someone else's commits: leave it",
    snapshot({ open: null, ours: false }),
    want(),
    null,
    { kind: "blocked", detail: "branch digest-pin/main exists with commits digest-pin did not make" },
  ],
  ["a leftover foreign branch on /digest-pin recreate: rebuild", snapshot({ open: null, ours: false, recreate: true }), want(), null, { kind: "write", pull: null, branchExists: true }],
  // refresh
  ["current: the marker vouches for our head and plan", snapshot(), want(), marker(), { kind: "keep", pull: PULL }],
  ["the plan changed: a new commit", snapshot(), want({ plan: "d".repeat(32) }), marker(), WRITE_OPEN],
  ["/digest-pin recreate on a current pull request: rebuild", snapshot({ recreate: true }), want(), marker(), WRITE_OPEN],
  // a lost marker (edited away) or one that names another commit: ask GitHub, then keep or write
  ["marker lost: inspect the head", snapshot(), want(), null, { kind: "inspect", pull: PULL }],
  ["marker names another commit: inspect the head", snapshot(), want(), marker({ commit: OTHER }), { kind: "inspect", pull: PULL }],
  ["marker lost, the head carries the plan: keep (and rebuild the marker)", snapshot({ headCarriesPlan: true }), want(), null, { kind: "keep", pull: PULL }],
  ["marker lost, the head does not carry the plan: write", snapshot({ headCarriesPlan: false }), want(), null, WRITE_OPEN],
  ["an open pull request without a branch: write", snapshot({ head: null, ours: false, recreate: true }), want(), null, { kind: "write", pull: PULL, branchExists: false }],
  // foreign push
  ["someone else pushed: leave it, say so", snapshot({ ours: false }), want(), marker(), FOREIGN],
  ["someone else pushed and the marker names their commit: still theirs", snapshot({ ours: false }), want(), marker({ commit: HEAD }), FOREIGN],
  ["someone else pushed, nothing left to change: still not closed", snapshot({ ours: false }), want({ changes: 0 }), marker(), FOREIGN],
  ["someone else pushed, /digest-pin recreate: rebuild over it", snapshot({ ours: false, recreate: true }), want(), marker(), WRITE_OPEN],
  ["the branch is gone under an open pull request not ours: blocked without a notice", snapshot({ head: null, ours: false }), want(), null, { kind: "blocked", pull: PULL, detail: FOREIGN_DETAIL }],
  // close
  ["nothing left to change: close", snapshot(), want({ changes: 0 }), marker(), { kind: "close", pull: PULL }],
  ["nothing left, /digest-pin recreate: close", snapshot({ recreate: true }), want({ changes: 0 }), marker(), { kind: "close", pull: PULL }],
  // failures never close nor strip
  ["a file failed to scan: hold our pull request", snapshot(), want({ unscanned: 1 }), marker(), SCAN_BLOCK(1)],
  ["two files failed to scan, nothing else to change: hold, never close", snapshot(), want({ unscanned: 2, changes: 0 }), marker(), SCAN_BLOCK(2)],
  ["a file failed, /digest-pin recreate with changes: rebuild", snapshot({ recreate: true }), want({ unscanned: 1 }), marker(), WRITE_OPEN],
  ["a file failed, /digest-pin recreate, nothing to change: hold", snapshot({ recreate: true }), want({ unscanned: 1, changes: 0 }), marker(), SCAN_BLOCK(1)],
  ["a proposed reference fails to resolve: hold", snapshot(), want({ failed: [FAILED], plan: "d".repeat(32) }), marker(), REGISTRY_BLOCK],
  ["another reference fails: go on", snapshot(), want({ failed: [refKey("Dockerfile", "other:1")], plan: "d".repeat(32) }), marker(), WRITE_OPEN],
  ["a marker whose lists were cut, any failure: hold", snapshot(), want({ failed: [refKey("x", "y")] }), marker({ cut: true, refs: [] }), REGISTRY_BLOCK],
  ["a failure on /digest-pin recreate: rebuild", snapshot({ recreate: true }), want({ failed: [FAILED] }), marker(), WRITE_OPEN],
];

describe("decide", () => {
  it.each(rows)("%s", (_name, s, w, m, expected) => {
    expect(decide(s, w, m)).toEqual(expected);
  });

  it("never writes over a head GitHub does not call ours, whatever the marker says, unless told to recreate", () => {
    for (const m of [null, marker(), marker({ commit: OTHER })]) {
      for (const w of [want(), want({ changes: 0 }), want({ unscanned: 1 }), want({ failed: [FAILED] })]) {
        const action = decide(snapshot({ ours: false }), w, m);
        expect(["blocked"]).toContain(action.kind);
      }
    }
  });
});
