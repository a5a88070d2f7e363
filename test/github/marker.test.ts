import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  MAX_KEYS,
  markerFor,
  planHash,
  proposalKey,
  proposes,
  readMarker,
  refKey,
  renderMarker,
  replaceMarker,
  type Marker,
} from "../../src/github/marker.js";
import type { Change } from "../../src/plan.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;
const FILES = { Dockerfile: "b".repeat(40), "svc/Dockerfile": "c".repeat(40) };

const change = (over: Partial<Change> = {}): Change => ({
  path: "Dockerfile",
  line: 1,
  kind: "from",
  image: "docker.io/library/python",
  tag: "3.12",
  from: "python:3.12",
  to: `python:3.12@${D1}`,
  oldDigest: null,
  newDigest: D1,
  start: 5,
  end: 16,
  ...over,
});

const CHANGES = [change(), change({ path: "svc/Dockerfile", line: 3, oldDigest: D2, from: `python:3.12@${D2}` })];
const marker = (over: Partial<Marker> = {}): Marker => ({ ...markerFor("a".repeat(40), { files: FILES, changes: CHANGES }), ...over });

/** A v1 marker, as bodies written by earlier versions carry it: base64 JSON with every change. */
const v1 = (payload: unknown) => `<!-- digest-pin:plan ${Buffer.from(JSON.stringify(payload)).toString("base64")} -->`;
const V1_CHANGES = CHANGES.map(({ path, line, image, tag, from, to, oldDigest, newDigest }) => ({ path, line, image, tag, from, to, oldDigest, newDigest }));

describe("markerFor", () => {
  it("keeps a hash of the plan and one key per distinct proposal and reference", () => {
    const m = marker();
    expect(m.v).toBe(2);
    expect(m.commit).toBe("a".repeat(40));
    expect(m.plan).toMatch(/^[0-9a-f]{32}$/);
    expect(m.proposed).toEqual([proposalKey("docker.io/library/python", "3.12", D1)]);
    expect(m.refs).toEqual([refKey("Dockerfile", "python:3.12"), refKey("svc/Dockerfile", `python:3.12@${D2}`)].sort());
    expect(m.cut).toBeUndefined();
  });

  it("says which digests it proposes", () => {
    expect(proposes(marker(), "docker.io/library/python", "3.12", D1)).toBe(true);
    expect(proposes(marker(), "docker.io/library/python", "3.12", D3)).toBe(false);
    expect(proposes(marker(), "docker.io/library/python", "3.13", D1)).toBe(false);
    expect(proposes(null, "docker.io/library/python", "3.12", D1)).toBe(false);
  });

  it("stays bounded for any plan, and says when its lists are cut", () => {
    const many = Array.from({ length: 5000 }, (_, i) => change({ line: i + 1, from: `python:${i}`, tag: String(i) }));
    const m = markerFor("a".repeat(40), { files: FILES, changes: many });
    expect(m.cut).toBe(true);
    expect(m.proposed).toHaveLength(MAX_KEYS);
    expect(m.refs).toHaveLength(MAX_KEYS);
    expect(renderMarker(m).length).toBeLessThan(30_000);
    expect(readMarker(renderMarker(m))).toEqual(m);
  });

  it("is about 7 characters a distinct proposal (the v1 marker took about 600 a change)", () => {
    const changes = Array.from({ length: 400 }, (_, i) => change({ line: i + 1, from: `python:${i}`, tag: String(i) }));
    const text = renderMarker(markerFor("a".repeat(40), { files: FILES, changes }));
    expect(text.length).toBeLessThan(400 * 2 * 7 + 200);
    expect(v1({ v: 1, commit: "a".repeat(40), files: FILES, changes: changes.map(({ start: _s, end: _e, kind: _k, ...c }) => c) }).length).toBeGreaterThan(
      100_000,
    );
  });
});

describe("planHash", () => {
  const shape = { files: FILES, changes: CHANGES };

  it("ignores order", () => {
    const reversedFiles = Object.fromEntries(Object.entries(FILES).reverse());
    expect(planHash({ files: reversedFiles, changes: [...CHANGES].reverse() })).toBe(planHash(shape));
  });

  it("differs for another digest, line, path, file content or an extra change", () => {
    const base = planHash(shape);
    expect(planHash({ files: FILES, changes: [change({ newDigest: D3 }), CHANGES[1] as Change] })).not.toBe(base);
    expect(planHash({ files: FILES, changes: [change({ line: 2 }), CHANGES[1] as Change] })).not.toBe(base);
    expect(planHash({ files: FILES, changes: [change({ path: "b" }), CHANGES[1] as Change] })).not.toBe(base);
    expect(planHash({ files: { ...FILES, Dockerfile: "e".repeat(40) }, changes: CHANGES })).not.toBe(base);
    expect(planHash({ files: FILES, changes: [...CHANGES, change({ line: 9 })] })).not.toBe(base);
  });

  it("does not take distinct strings for equal (code-unit order, not locale order)", () => {
    const nfc = change({ path: "caf\u00e9/Dockerfile" });
    const nfd = change({ path: "cafe\u0301/Dockerfile" });
    expect(planHash({ files: {}, changes: [nfc] })).not.toBe(planHash({ files: {}, changes: [nfd] }));
  });
});

describe("renderMarker / readMarker", () => {
  it("round-trips, wherever the marker sits in the body", () => {
    const m = marker({ resolved: true, automergeNoticed: true });
    expect(readMarker(`This pull request pins things.\n\n| a | b |\n\n${renderMarker(m)}\n`)).toEqual(m);
    expect(readMarker(`before\n${renderMarker(m)}\nafter`)).toEqual(m);
  });

  it("holds nothing that could end the HTML comment early or render", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 20 }), fc.array(fc.string(), { maxLength: 20 }), (paths, froms) => {
        const changes = paths.map((path, i) => change({ path, from: froms[i] ?? "x", line: i + 1 }));
        const text = renderMarker(markerFor("a".repeat(40), { files: {}, changes }));
        const inner = text.slice("<!-- ".length, -" -->".length);
        expect(inner).toMatch(/^[A-Za-z0-9+/=: ._-]+$/);
        expect(inner).not.toContain("--");
      }),
    );
  });

  it("reads the last marker when a body holds several", () => {
    const old = marker({ commit: "1".repeat(40) });
    const latest = marker({ commit: "2".repeat(40), proposed: [] });
    expect(readMarker(`${renderMarker(old)}\n\nquoted\n\n${renderMarker(latest)}`)).toEqual(latest);
  });

  it("reads a v1 marker as the v2 marker it means", () => {
    const read = readMarker(v1({ v: 1, commit: "a".repeat(40), files: FILES, changes: V1_CHANGES }));
    expect(read).toEqual(marker());
    expect(readMarker(v1({ v: 1, commit: "a".repeat(40), files: FILES, changes: V1_CHANGES, resolved: true }))?.resolved).toBe(true);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an empty body", ""],
    ["a body without a marker", "Just a pull request."],
    ["an unterminated marker", renderMarker(marker()).replace(/ -->$/, "")],
    ["a marker that is neither v2 nor base64 JSON", "<!-- digest-pin:plan not-json!! -->"],
    ["an empty marker", "<!-- digest-pin:plan  -->"],
    ["a short commit", renderMarker(marker()).replace(/commit=a{40}/, "commit=aaaa")],
    ["a short plan hash", renderMarker(marker()).replace(/plan=[0-9a-f]{32}/, "plan=abc")],
    ["keys that are not whole", renderMarker(marker()).replace(/proposed=\S+/, "proposed=AAAA")],
    ["an unknown flag", renderMarker(marker()).replace(/ -->$/, " bogus -->")],
    ["v1: a JSON null", v1(null)],
    ["v1: no commit", v1({ v: 1, files: FILES, changes: V1_CHANGES })],
    ["v1: files as a list", v1({ v: 1, commit: "a".repeat(40), files: ["Dockerfile"], changes: V1_CHANGES })],
    ["v1: a change without a digest", v1({ v: 1, commit: "a".repeat(40), files: FILES, changes: [{ ...V1_CHANGES[0], newDigest: undefined }] })],
    ["v1: a change with a string line", v1({ v: 1, commit: "a".repeat(40), files: FILES, changes: [{ ...V1_CHANGES[0], line: "1" }] })],
    ["v1: another version", v1({ v: 3, commit: "a".repeat(40), files: FILES, changes: V1_CHANGES })],
  ])("gives null for %s", (_name, body) => {
    expect(readMarker(body)).toBeNull();
  });

  it("gives null when the last marker is damaged, even after a good one", () => {
    expect(readMarker(`${renderMarker(marker())}\n<!-- digest-pin:plan @@@ -->`)).toBeNull();
  });

  it("does not take a similar comment for the marker", () => {
    const text = renderMarker(marker()).slice("<!-- digest-pin:plan ".length);
    expect(readMarker(`<!-- digest-pin:plans ${text}`)).toBeNull();
    expect(readMarker(`<!-- other ${text}`)).toBeNull();
  });

  it("replaces the last marker, or appends one", () => {
    const m = marker();
    const body = `text\n\n${renderMarker(marker({ commit: "1".repeat(40) }))}\n`;
    expect(readMarker(replaceMarker(body, m))).toEqual(m);
    expect(replaceMarker(body, m)).toBe(`text\n\n${renderMarker(m)}\n`);
    expect(readMarker(replaceMarker("no marker here", m))).toEqual(m);
  });
});
