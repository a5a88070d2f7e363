import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { markChanges, readMarker, renderMarker, samePlan, type MarkedChange, type Marker } from "../../src/github/marker.js";
import type { Change } from "../../src/plan.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;

const change = (over: Partial<MarkedChange> = {}): MarkedChange => ({
  path: "Dockerfile",
  line: 1,
  image: "docker.io/library/python",
  tag: "3.12",
  from: "python:3.12",
  to: `python:3.12@${D1}`,
  oldDigest: null,
  newDigest: D1,
  ...over,
});

const marker = (over: Partial<Marker> = {}): Marker => ({
  v: 1,
  commit: "a".repeat(40),
  files: { Dockerfile: "b".repeat(40), "svc/Dockerfile": "c".repeat(40) },
  changes: [change(), change({ path: "svc/Dockerfile", line: 3, oldDigest: D2, from: `python:3.12@${D2}` })],
  ...over,
});

/** A marker with an arbitrary JSON payload, as someone editing the body might leave it. */
const rawMarker = (payload: unknown) =>
  `<!-- digest-pin:plan ${Buffer.from(JSON.stringify(payload)).toString("base64")} -->`;

describe("markChanges", () => {
  it("keeps exactly what later runs need", () => {
    const full: Change = {
      path: "Dockerfile",
      line: 2,
      kind: "copy-from",
      image: "docker.io/library/node",
      tag: "20",
      from: "node:20",
      to: `node:20@${D1}`,
      oldDigest: null,
      newDigest: D1,
      platforms: ["linux/amd64"],
      start: 10,
      end: 17,
    };
    expect(markChanges([full])).toEqual([
      {
        path: "Dockerfile",
        line: 2,
        image: "docker.io/library/node",
        tag: "20",
        from: "node:20",
        to: `node:20@${D1}`,
        oldDigest: null,
        newDigest: D1,
      },
    ]);
  });
});

describe("renderMarker / readMarker", () => {
  it("round-trips inside a body", () => {
    const m = marker();
    const body = `This pull request pins things.\n\n| a | b |\n\n${renderMarker(m)}\n`;
    expect(readMarker(body)).toEqual(m);
  });

  it("renders a hidden HTML comment", () => {
    const text = renderMarker(marker());
    expect(text).toMatch(/^<!-- digest-pin:plan [A-Za-z0-9+/=]+ -->$/);
  });

  it("round-trips change text containing --> and other HTML", () => {
    const m = marker({
      files: { "weird -->/Dockerfile": "d".repeat(40) },
      changes: [change({ path: "weird -->/Dockerfile", from: "x --> <!-- y", to: "</details> -->" })],
    });
    const text = renderMarker(m);
    // The comment is closed only by its own end.
    expect(text.indexOf("-->")).toBe(text.length - 3);
    expect(readMarker(`before\n${text}\nafter`)).toEqual(m);
  });

  it("round-trips any text (property)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.string({ unit: "binary" }),
        fc.nat(),
        fc.option(fc.string(), { nil: null }),
        (path, from, line, oldDigest) => {
          const m = marker({ files: { [path]: "blob" }, changes: [change({ path, from, line, oldDigest })] });
          expect(readMarker(`prefix ${from}\n${renderMarker(m)}`)).toEqual(m);
        },
      ),
    );
  });

  it("reads the last marker when a body holds several", () => {
    const old = marker({ commit: "1".repeat(40) });
    const latest = marker({ commit: "2".repeat(40), changes: [] });
    expect(readMarker(`${renderMarker(old)}\n\nquoted\n\n${renderMarker(latest)}`)).toEqual(latest);
  });

  it.each([
    ["null", null],
    ["undefined", undefined],
    ["an empty body", ""],
    ["a body without a marker", "Just a pull request."],
    ["an unterminated marker", `<!-- digest-pin:plan ${Buffer.from(JSON.stringify(marker())).toString("base64")}`],
    ["a marker that is not base64 JSON", "<!-- digest-pin:plan not-json!! -->"],
    ["an empty marker", "<!-- digest-pin:plan  -->"],
    ["truncated base64", renderMarker(marker()).replace(/[A-Za-z0-9+/=]{8} -->$/, " -->")],
    ["a JSON null", rawMarker(null)],
    ["a JSON number", rawMarker(5)],
    ["another version", rawMarker({ ...marker(), v: 2 })],
    ["no commit", rawMarker({ ...marker(), commit: undefined })],
    ["a numeric commit", rawMarker({ ...marker(), commit: 1 })],
    ["no files", rawMarker({ ...marker(), files: undefined })],
    ["null files", rawMarker({ ...marker(), files: null })],
    ["files as a list", rawMarker({ ...marker(), files: ["Dockerfile"] })],
    ["a non-string blob id", rawMarker({ ...marker(), files: { Dockerfile: 1 } })],
    ["changes not a list", rawMarker({ ...marker(), changes: {} })],
    ["a null change", rawMarker({ ...marker(), changes: [null] })],
    ["a change without a digest", rawMarker({ ...marker(), changes: [{ ...change(), newDigest: undefined }] })],
    ["a change with a string line", rawMarker({ ...marker(), changes: [{ ...change(), line: "1" }] })],
    ["a change with a numeric oldDigest", rawMarker({ ...marker(), changes: [{ ...change(), oldDigest: 0 }] })],
  ])("gives null for %s", (_name, body) => {
    expect(readMarker(body)).toBeNull();
  });

  it("gives null when the last marker is damaged, even after a good one", () => {
    expect(readMarker(`${renderMarker(marker())}\n<!-- digest-pin:plan @@@ -->`)).toBeNull();
  });

  it("does not take a similar comment for the marker", () => {
    const payload = Buffer.from(JSON.stringify(marker())).toString("base64");
    expect(readMarker(`<!-- digest-pin:plans ${payload} -->`)).toBeNull();
    expect(readMarker(`<!-- other ${payload} -->`)).toBeNull();
  });
});

describe("samePlan", () => {
  it("is true for the same plan", () => {
    expect(samePlan(marker(), marker())).toBe(true);
  });

  it("ignores the commit", () => {
    expect(samePlan(marker({ commit: "1".repeat(40) }), marker({ commit: "2".repeat(40) }))).toBe(true);
  });

  it("ignores the order of changes and files", () => {
    const m = marker();
    const reordered: Marker = {
      ...m,
      files: Object.fromEntries(Object.entries(m.files).reverse()),
      changes: [...m.changes].reverse(),
    };
    expect(Object.keys(reordered.files)).not.toEqual(Object.keys(m.files));
    expect(samePlan(m, reordered)).toBe(true);
  });

  it("is false when a new digest differs", () => {
    const other = marker();
    other.changes = [change({ to: `python:3.12@${D3}`, newDigest: D3 }), ...other.changes.slice(1)];
    expect(samePlan(marker(), other)).toBe(false);
  });

  it("is false when a base file changed", () => {
    expect(samePlan(marker(), marker({ files: { ...marker().files, Dockerfile: "e".repeat(40) } }))).toBe(false);
  });

  it("is false when a file is added or a change removed", () => {
    expect(samePlan(marker(), marker({ files: { ...marker().files, "x/Dockerfile": "f".repeat(40) } }))).toBe(false);
    expect(samePlan(marker(), marker({ changes: marker().changes.slice(1) }))).toBe(false);
  });

  it("is false when the same edit moves to another line or path", () => {
    expect(samePlan(marker({ changes: [change()] }), marker({ changes: [change({ line: 2 })] }))).toBe(false);
    expect(samePlan(marker({ changes: [change()] }), marker({ changes: [change({ path: "b" })] }))).toBe(false);
  });

  it("does not mix up distinct paths that collate as equal", () => {
    // NFC and NFD spellings of "é", and a zero-width space: different paths to Git, equal to localeCompare.
    const names = ["caf\u00e9/Dockerfile", "cafe\u0301/Dockerfile", "a\u200bb/Dockerfile", "ab/Dockerfile"];
    const files = Object.fromEntries(names.map((n, i) => [n, `blob${i}`]));
    const changes = names.map((path, i) => change({ path, line: i }));
    const reversedFiles = Object.fromEntries(Object.entries(files).reverse());
    expect(samePlan({ files, changes }, { files: reversedFiles, changes: [...changes].reverse() })).toBe(true);
    const swapped = { ...files, [names[0]!]: "blob1", [names[1]!]: "blob0" };
    expect(samePlan({ files, changes }, { files: swapped, changes })).toBe(false);
  });

  it("treats a marker read back from a body as the plan it was written from", () => {
    const m = marker();
    const read = readMarker(renderMarker({ ...m, commit: "9".repeat(40) }));
    expect(read).not.toBeNull();
    expect(samePlan(read!, m)).toBe(true);
  });
});
