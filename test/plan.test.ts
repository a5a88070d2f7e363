import { describe, expect, it } from "vitest";
import type { FoundReference } from "../src/dockerfile/types.js";
import {
  editsFor,
  followedTag,
  plan,
  resolveRequestFor,
  resolveRequests,
  type PlanOptions,
  type ScannedFile,
} from "../src/plan.js";
import { parseReference } from "../src/reference.js";
import { RegistryError, type Resolution } from "../src/registry/types.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;

/** A FROM reference as the scanner would report it, at `FROM <text>` on `line`. */
function ref(text: string, extra: Partial<FoundReference> = {}): FoundReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(`test reference ${text} does not parse: ${parsed.error}`);
  const start = 5;
  return {
    kind: "from",
    line: 1,
    start,
    end: start + Buffer.byteLength(text),
    text,
    reference: parsed.value,
    skip: null,
    ...extra,
  };
}

function skipped(text: string, skip: "variable" | "invalid", skipDetail?: string): FoundReference {
  const out: FoundReference = { kind: "from", line: 1, start: 5, end: 5 + text.length, text, reference: null, skip };
  if (skipDetail !== undefined) out.skipDetail = skipDetail;
  return out;
}

function keyOf(found: FoundReference): string {
  const request = resolveRequestFor(found);
  if (!request) throw new Error(`${found.text} asks no question`);
  return request.key;
}

/** Resolutions for the given references, as the engine would store them. */
function resolved(...entries: [FoundReference, Resolution | Error][]): Map<string, Resolution | Error> {
  return new Map(entries.map(([found, value]) => [keyOf(found), value]));
}

const index = (digest: string): Resolution => ({
  digest,
  mediaType: "application/vnd.oci.image.index.v1+json",
});

const file = (path: string, ...references: FoundReference[]): ScannedFile => ({ path, references });
const PIN: PlanOptions = { pinUnpinned: true };

describe("followedTag", () => {
  it("is the tag, or latest when there is none", () => {
    expect(followedTag(ref("python:3.12").reference!)).toBe("3.12");
    expect(followedTag(ref("python").reference!)).toBe("latest");
    expect(followedTag(ref(`python@${D1}`).reference!)).toBe("latest");
  });
});

describe("resolveRequestFor", () => {
  it("asks for the tag of an unpinned reference, normalized", () => {
    const request = resolveRequestFor(ref("python:3.12-slim"));
    expect(request?.reference).toEqual({
      registry: "docker.io",
      repository: "library/python",
      tag: "3.12-slim",
      digest: null,
    });
    expect(request?.options).toEqual({});
  });

  it("asks for latest when the reference has no tag", () => {
    expect(resolveRequestFor(ref("ghcr.io/acme/app"))?.reference).toEqual({
      registry: "ghcr.io",
      repository: "acme/app",
      tag: "latest",
      digest: null,
    });
  });

  it("asks for the tag without the digest of a pinned reference, passing the current digest", () => {
    const request = resolveRequestFor(ref(`python:3.12@${D1}`));
    expect(request?.reference.digest).toBeNull();
    expect(request?.reference.tag).toBe("3.12");
    expect(request?.options).toEqual({ currentDigest: D1 });
  });

  it("passes the platform only for a pinned reference", () => {
    expect(resolveRequestFor(ref(`python:3.12@${D1}`, { platform: "linux/arm64" }))?.options).toEqual({
      currentDigest: D1,
      platform: "linux/arm64",
    });
    expect(resolveRequestFor(ref("python:3.12", { platform: "linux/arm64" }))?.options).toEqual({});
  });

  it("asks nothing for digest-only, variable and invalid references", () => {
    expect(resolveRequestFor(ref(`python@${D1}`))).toBeNull();
    expect(resolveRequestFor(skipped("${BASE}", "variable"))).toBeNull();
    expect(resolveRequestFor(skipped("Python:3", "invalid"))).toBeNull();
  });
});

describe("resolveRequests", () => {
  it("asks once for the same tag however many files and spellings use it", () => {
    const files = [
      file("a/Dockerfile", ref("python:3.12"), ref("docker.io/library/python:3.12", { line: 4 })),
      file("b/Dockerfile", ref("index.docker.io/library/python:3.12")),
      file("c/Dockerfile", ref("library/python:3.12", { kind: "copy-from" })),
    ];
    const requests = resolveRequests(files);
    expect(requests).toHaveLength(1);
    expect(requests[0]?.reference).toEqual({
      registry: "docker.io",
      repository: "library/python",
      tag: "3.12",
      digest: null,
    });
  });

  it("treats an untagged reference and :latest as the same question", () => {
    expect(resolveRequests([file("Dockerfile", ref("alpine"), ref("alpine:latest"))])).toHaveLength(1);
  });

  it("asks separately for different tags, images and registries", () => {
    const requests = resolveRequests([
      file("Dockerfile", ref("python:3.12"), ref("python:3.13"), ref("pypy:3.12"), ref("ghcr.io/library/python:3.12")),
    ]);
    expect(requests).toHaveLength(4);
  });

  it("gives a pinned reference its own question, and a pinned one with a platform another", () => {
    const unpinned = ref("python:3.12");
    const pinned = ref(`python:3.12@${D1}`);
    const pinnedArm = ref(`python:3.12@${D1}`, { platform: "linux/arm64" });
    const pinnedArmAgain = ref(`python:3.12@${D1}`, { platform: "linux/arm64", line: 9 });
    const requests = resolveRequests([file("a", unpinned, pinned), file("b", pinnedArm, pinnedArmAgain)]);
    expect(requests).toHaveLength(3);
    expect(new Set(requests.map((r) => r.key)).size).toBe(3);
    expect(requests.map((r) => r.options)).toEqual([
      {},
      { currentDigest: D1 },
      { currentDigest: D1, platform: "linux/arm64" },
    ]);
  });

  it("gives references pinned to different digests different questions", () => {
    expect(resolveRequests([file("a", ref(`python:3.12@${D1}`), ref(`python:3.12@${D2}`))])).toHaveLength(2);
  });

  it("asks nothing for skipped and digest-only references", () => {
    expect(
      resolveRequests([file("a", skipped("${X}", "variable"), skipped("UPPER", "invalid"), ref(`alpine@${D1}`))]),
    ).toEqual([]);
    expect(resolveRequests([])).toEqual([]);
  });
});

describe("plan", () => {
  it("pins an unpinned tagged reference, keeping the text as written", () => {
    const python = ref("python:3.12-slim", { line: 3, start: 40, end: 56 });
    const p = plan([file("svc/Dockerfile", python)], resolved([python, index(D1)]), PIN);
    expect(p.changes).toEqual([
      {
        path: "svc/Dockerfile",
        line: 3,
        kind: "from",
        image: "docker.io/library/python",
        tag: "3.12-slim",
        from: "python:3.12-slim",
        to: `python:3.12-slim@${D1}`,
        oldDigest: null,
        newDigest: D1,
        start: 40,
        end: 56,
      },
    ]);
    expect(p.skipped).toEqual([]);
    expect(p.errors).toEqual([]);
    expect(p.current).toEqual([]);
    expect(p.changes).not.toEqual([]);
  });

  it("pins an untagged reference as name:latest@digest", () => {
    const alpine = ref("alpine");
    const registry = ref("registry.example.com:5000/team/app", { line: 2 });
    const p = plan([file("Dockerfile", alpine, registry)], resolved([alpine, index(D1)], [registry, index(D2)]), PIN);
    expect(p.changes.map((c) => [c.to, c.tag])).toEqual([
      [`alpine:latest@${D1}`, "latest"],
      [`registry.example.com:5000/team/app:latest@${D2}`, "latest"],
    ]);
  });

  it("refreshes a pin whose tag moved, replacing only the digest", () => {
    const python = ref(`python:3.12@${D1}`, { kind: "copy-from", line: 7 });
    const p = plan([file("Dockerfile", python)], resolved([python, index(D2)]), PIN);
    expect(p.changes).toHaveLength(1);
    expect(p.changes[0]).toMatchObject({
      kind: "copy-from",
      line: 7,
      from: `python:3.12@${D1}`,
      to: `python:3.12@${D2}`,
      oldDigest: D1,
      newDigest: D2,
    });
  });

  it("leaves a current pin alone and reports it as current", () => {
    const python = ref(`python:3.12@${D1}`, { line: 2 });
    const p = plan([file("Dockerfile", python)], resolved([python, index(D1)]), PIN);
    expect(p.changes).toEqual([]);
    expect(p.current).toEqual([
      {
        path: "Dockerfile",
        line: 2,
        text: `python:3.12@${D1}`,
        image: "docker.io/library/python",
        tag: "3.12",
        digest: D1,
      },
    ]);
    expect(p.changes).toEqual([]);
  });

  it("skips a digest-only reference: it cannot drift", () => {
    const p = plan([file("Dockerfile", ref(`python@${D1}`))], new Map(), PIN);
    expect(p.changes).toEqual([]);
    expect(p.errors).toEqual([]);
    expect(p.skipped).toEqual([
      { path: "Dockerfile", line: 1, text: `python@${D1}`, reason: "digest-only", detail: expect.any(String) },
    ]);
  });

  it("skips variable and invalid references with the scanner's reason and detail", () => {
    const p = plan(
      [file("Dockerfile", skipped("${BASE}:3", "variable", "uses $BASE"), skipped("Bad:Ref", "invalid"))],
      new Map(),
      PIN,
    );
    expect(p.skipped).toEqual([
      { path: "Dockerfile", line: 1, text: "${BASE}:3", reason: "variable", detail: "uses $BASE" },
      { path: "Dockerfile", line: 1, text: "Bad:Ref", reason: "invalid" },
    ]);
    expect(p.changes).toEqual([]);
    expect(p.errors).toEqual([]);
  });

  it("treats a reference without a parsed value as invalid", () => {
    const broken: FoundReference = { ...ref("python:3"), reference: null };
    const p = plan([file("Dockerfile", broken)], new Map(), PIN);
    expect(p.skipped.map((s) => s.reason)).toEqual(["invalid"]);
  });

  it("with pinUnpinned off, only refreshes existing pins", () => {
    const unpinned = ref("python:3.12", { line: 1 });
    const pinned = ref(`node:20@${D1}`, { line: 2 });
    const p = plan(
      [file("Dockerfile", unpinned, pinned)],
      resolved([unpinned, index(D3)], [pinned, index(D2)]),
      { pinUnpinned: false },
    );
    expect(p.changes.map((c) => c.from)).toEqual([`node:20@${D1}`]);
    expect(p.skipped).toEqual([
      { path: "Dockerfile", line: 1, text: "python:3.12", reason: "not-pinned", detail: expect.any(String) },
    ]);
  });

  it("skips ignored references, asking the predicate with the path and reference", () => {
    const alpine = ref("alpine:3", { line: 1 });
    const python = ref("python:3", { line: 2 });
    const seen: [string, string][] = [];
    const p = plan([file("dev/Dockerfile", alpine, python)], resolved([alpine, index(D1)], [python, index(D2)]), {
      pinUnpinned: true,
      isIgnored: (path, found) => {
        seen.push([path, found.text]);
        return found.text.startsWith("alpine");
      },
    });
    expect(seen).toEqual([
      ["dev/Dockerfile", "alpine:3"],
      ["dev/Dockerfile", "python:3"],
    ]);
    expect(p.skipped).toEqual([{ path: "dev/Dockerfile", line: 1, text: "alpine:3", reason: "ignored" }]);
    expect(p.changes.map((c) => c.from)).toEqual(["python:3"]);
  });

  it("ignores a pinned reference even when its tag moved", () => {
    const pinned = ref(`alpine:3@${D1}`);
    const p = plan([file("Dockerfile", pinned)], resolved([pinned, index(D2)]), {
      pinUnpinned: true,
      isIgnored: () => true,
    });
    expect(p.changes).toEqual([]);
    expect(p.skipped.map((s) => s.reason)).toEqual(["ignored"]);
  });

  it("does not propose a declined digest again, but proposes a newer one", () => {
    const declined = new Map([["docker.io/library/python:3.12", new Set([D2])]]);
    const stale = ref(`python:3.12@${D1}`);
    const declinedPlan = plan([file("Dockerfile", stale)], resolved([stale, index(D2)]), { pinUnpinned: true, declined });
    expect(declinedPlan.changes).toEqual([]);
    expect(declinedPlan.errors).toEqual([]);
    expect(declinedPlan.skipped).toEqual([
      { path: "Dockerfile", line: 1, text: `python:3.12@${D1}`, reason: "declined", detail: expect.stringContaining(D2) },
    ]);

    const newer = plan([file("Dockerfile", stale)], resolved([stale, index(D3)]), { pinUnpinned: true, declined });
    expect(newer.skipped).toEqual([]);
    expect(newer.changes.map((c) => c.newDigest)).toEqual([D3]);
  });

  it("matches declined digests by normalized image and followed tag", () => {
    const declined = new Map([["docker.io/library/alpine:latest", new Set([D1])]]);
    const alpine = ref("index.docker.io/alpine");
    const p = plan([file("Dockerfile", alpine)], resolved([alpine, index(D1)]), { pinUnpinned: true, declined });
    expect(p.skipped.map((s) => s.reason)).toEqual(["declined"]);
    // Another tag of the same image is not declined.
    const other = ref("alpine:3.20");
    const q = plan([file("Dockerfile", other)], resolved([other, index(D1)]), { pinUnpinned: true, declined });
    expect(q.changes).toHaveLength(1);
  });

  it("skips a digest too new to adopt, asking with image, tag and digest", () => {
    const calls: string[][] = [];
    const python = ref(`python:3.12@${D1}`);
    const p = plan([file("Dockerfile", python)], resolved([python, index(D2)]), {
      pinUnpinned: true,
      isTooNew: (image, tag, digest) => {
        calls.push([image, tag, digest]);
        return true;
      },
    });
    expect(calls).toEqual([["docker.io/library/python", "3.12", D2]]);
    expect(p.changes).toEqual([]);
    expect(p.skipped).toEqual([
      { path: "Dockerfile", line: 1, text: `python:3.12@${D1}`, reason: "too-new", detail: expect.stringContaining(D2) },
    ]);
  });

  it("does not call a current pin too new", () => {
    const python = ref(`python:3.12@${D1}`);
    const p = plan([file("Dockerfile", python)], resolved([python, index(D1)]), {
      pinUnpinned: true,
      isTooNew: () => true,
    });
    expect(p.current).toHaveLength(1);
    expect(p.skipped).toEqual([]);
  });

  it("reports a plain Error as an error without a code, and changes nothing", () => {
    const python = ref("python:3.12", { line: 4 });
    const p = plan([file("Dockerfile", python)], resolved([python, new Error("connection reset")]), PIN);
    expect(p.changes).toEqual([]);
    expect(p.current).toEqual([]);
    expect(p.errors).toEqual([{ path: "Dockerfile", line: 4, text: "python:3.12", error: "connection reset" }]);
  });

  it("reports a RegistryError with its code, and a failing pin is never current", () => {
    const python = ref(`python:3.12@${D1}`, { line: 2 });
    const p = plan(
      [file("Dockerfile", python)],
      resolved([python, new RegistryError("RATE_LIMITED", "429 Too Many Requests", 429)]),
      PIN,
    );
    expect(p.changes).toEqual([]);
    expect(p.current).toEqual([]);
    expect(p.errors).toEqual([
      { path: "Dockerfile", line: 2, text: `python:3.12@${D1}`, error: "429 Too Many Requests", code: "RATE_LIMITED" },
    ]);
    expect(p.changes).toEqual([]);
  });

  it("reports a reference with no resolution as an error, never as current or a change", () => {
    const python = ref(`python:3.12@${D1}`);
    const alpine = ref("alpine:3");
    const p = plan([file("Dockerfile", python, alpine)], resolved([alpine, index(D2)]), PIN);
    expect(p.errors).toEqual([
      { path: "Dockerfile", line: 1, text: `python:3.12@${D1}`, error: "not resolved", code: "NOT_RESOLVED" },
    ]);
    expect(p.current).toEqual([]);
    expect(p.changes.map((c) => c.from)).toEqual(["alpine:3"]);
  });

  it("does not use the unpinned answer for a pinned reference's platform question", () => {
    const unpinned = ref("python:3.12");
    const pinnedArm = ref(`python:3.12@${D1}`, { platform: "linux/arm64" });
    // Only the unpinned question was answered: the pinned arm64 reference must not borrow its index digest.
    const p = plan([file("Dockerfile", unpinned, pinnedArm)], resolved([unpinned, index(D2)]), PIN);
    expect(p.changes.map((c) => c.from)).toEqual(["python:3.12"]);
    expect(p.errors.map((e) => e.code)).toEqual(["NOT_RESOLVED"]);
  });

  it("lists the platforms an index covers", () => {
    const python = ref("python:3.12");
    const resolution: Resolution = {
      ...index(D1),
      platforms: [
        { os: "linux", architecture: "amd64" },
        { os: "linux", architecture: "arm", variant: "v7" },
      ],
    };
    const p = plan([file("Dockerfile", python)], resolved([python, resolution]), PIN);
    expect(p.changes[0]?.platforms).toEqual(["linux/amd64", "linux/arm/v7"]);
    const single = plan([file("Dockerfile", python)], resolved([python, index(D1)]), PIN);
    expect(single.changes[0]).not.toHaveProperty("platforms");
  });

  it("applies one answer to every reference that asked the same question, in file order", () => {
    const a = ref("python:3.12", { line: 1 });
    const b = ref("docker.io/library/python:3.12", { line: 5 });
    const c = ref(`python:3.12@${D1}`, { line: 2 });
    const files = [file("a/Dockerfile", a, b), file("b/Dockerfile", c)];
    const p = plan(files, resolved([a, index(D2)], [c, index(D2)]), PIN);
    expect(p.changes.map((x) => [x.path, x.line, x.to])).toEqual([
      ["a/Dockerfile", 1, `python:3.12@${D2}`],
      ["a/Dockerfile", 5, `docker.io/library/python:3.12@${D2}`],
      ["b/Dockerfile", 2, `python:3.12@${D2}`],
    ]);
  });

  it("accounts for every reference exactly once", () => {
    const refs = [
      ref("a:1", { line: 1 }),
      ref(`b:1@${D1}`, { line: 2 }),
      ref(`c:1@${D1}`, { line: 3 }),
      ref(`d@${D1}`, { line: 4 }),
      skipped("${X}", "variable"),
      ref("e:1", { line: 6 }),
    ];
    const [a, b, c, , , e] = refs;
    const p = plan(
      [file("Dockerfile", ...refs)],
      resolved([a!, index(D2)], [b!, index(D1)], [c!, index(D2)], [e!, new Error("boom")]),
      PIN,
    );
    expect(p.changes.length + p.current.length + p.skipped.length + p.errors.length).toBe(refs.length);
    expect(p.changes).toHaveLength(2);
    expect(p.current).toHaveLength(1);
    expect(p.skipped).toHaveLength(2);
    expect(p.errors).toHaveLength(1);
  });
});

describe("editsFor", () => {
  it("gives the byte edits of one file's changes only, each with the text it must replace", () => {
    const a1 = ref("python:3.12", { line: 1, start: 5, end: 16 });
    const a2 = ref("alpine", { line: 3, start: 40, end: 46 });
    const b1 = ref("node:20", { line: 1, start: 5, end: 12 });
    const p = plan(
      [file("a/Dockerfile", a1, a2), file("b/Dockerfile", b1)],
      resolved([a1, index(D1)], [a2, index(D2)], [b1, index(D3)]),
      PIN,
    );
    expect(editsFor(p.changes, "a/Dockerfile")).toEqual([
      { start: 5, end: 16, replacement: `python:3.12@${D1}`, expected: "python:3.12" },
      { start: 40, end: 46, replacement: `alpine:latest@${D2}`, expected: "alpine" },
    ]);
    expect(editsFor(p.changes, "b/Dockerfile")).toEqual([{ start: 5, end: 12, replacement: `node:20@${D3}`, expected: "node:20" }]);
    expect(editsFor(p.changes, "c/Dockerfile")).toEqual([]);
  });

  it("applied to the file's text, gives the pinned file", () => {
    const text = "FROM python:3.12 AS build\nFROM alpine\n";
    const first = ref("python:3.12", { line: 1, start: 5, end: 16 });
    const second = ref("alpine", { line: 2, start: 31, end: 37 });
    const p = plan([file("Dockerfile", first, second)], resolved([first, index(D1)], [second, index(D2)]), PIN);
    let out = text;
    for (const edit of [...editsFor(p.changes, "Dockerfile")].sort((x, y) => y.start - x.start)) {
      out = out.slice(0, edit.start) + edit.replacement + out.slice(edit.end);
    }
    expect(out).toBe(`FROM python:3.12@${D1} AS build\nFROM alpine:latest@${D2}\n`);
  });
});

describe("references that pin elsewhere or were built from variables", () => {
  it("writes a kustomization's digest at its pin site, shows the reference pinned", () => {
    const site = { start: 40, end: 40, before: "\n  digest: ", after: "", expected: "" };
    const found: FoundReference = { ...ref("nginx:1.27"), kind: "image", pin: site };
    const p = plan([file("kustomization.yaml", found)], resolved([found, index(D1)]), PIN);
    expect(p.changes[0]).toMatchObject({ from: "nginx:1.27", to: `nginx:1.27@${D1}`, start: 40, end: 40, replacement: `\n  digest: ${D1}` });
    expect(editsFor(p.changes, "kustomization.yaml")).toEqual([{ start: 40, end: 40, replacement: `\n  digest: ${D1}`, expected: "" }]);
  });

  it("appends the digest to the text as written, with :latest only when the expanded reference has no tag", () => {
    const tagged: FoundReference = { ...ref("golang:1.22-alpine"), text: "golang:${GO}-alpine", expanded: "golang:1.22-alpine" };
    const untagged: FoundReference = { ...ref("alpine"), text: "$IMG", expanded: "alpine", line: 2 };
    const p = plan([file("Dockerfile", tagged, untagged)], resolved([tagged, index(D1)], [untagged, index(D2)]), PIN);
    expect(p.changes.map((c) => c.to)).toEqual([`golang:\${GO}-alpine@${D1}`, `$IMG:latest@${D2}`]);
  });

  it("passes the registry's note on to the change", () => {
    const pinned = ref(`app:1@${D1}`);
    const p = plan([file("Dockerfile", pinned)], resolved([pinned, { ...index(D2), note: "the pinned manifest is gone" }]), PIN);
    expect(p.changes[0]?.note).toBe("the pinned manifest is gone");
  });

  it("reports the scanner's new reasons as skipped", () => {
    const reasons = ["build-arg", "ignored-inline", "multiline"] as const;
    const refs = reasons.map((skip, i): FoundReference => ({ ...skipped("x:1", "invalid"), skip, skipDetail: `why ${i}`, line: i + 1 }));
    expect(plan([file("f", ...refs)], new Map(), PIN).skipped.map((s) => [s.reason, s.detail])).toEqual(reasons.map((r, i) => [r, `why ${i}`]));
  });
});
