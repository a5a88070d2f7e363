import { describe, expect, it } from "vitest";
import {
  apiHost,
  formatReference,
  imageName,
  isValidDigest,
  parseReference,
  pinnedText,
  type ImageReference,
} from "../src/reference.js";

const D = `sha256:${"a".repeat(64)}`;
const D2 = `sha256:${"b".repeat(64)}`;

function ok(text: string): ImageReference {
  const parsed = parseReference(text);
  if (!parsed.ok) throw new Error(`expected ${text} to parse: ${parsed.error}`);
  return parsed.value;
}

function error(text: string): string {
  const parsed = parseReference(text);
  if (parsed.ok) throw new Error(`expected ${text} to be rejected, got ${formatReference(parsed.value)}`);
  return parsed.error;
}

describe("parseReference: normalization", () => {
  it.each([
    ["python", "docker.io", "library/python", null, null],
    ["python:3.12-slim", "docker.io", "library/python", "3.12-slim", null],
    ["library/python:3", "docker.io", "library/python", "3", null],
    ["docker.io/python", "docker.io", "library/python", null, null],
    ["index.docker.io/python:3", "docker.io", "library/python", "3", null],
    ["index.docker.io/acme/app", "docker.io", "acme/app", null, null],
    ["acme/app:1.0", "docker.io", "acme/app", "1.0", null],
    ["ghcr.io/acme/app:v1", "ghcr.io", "acme/app", "v1", null],
    ["ghcr.io/app", "ghcr.io", "app", null, null],
    ["registry.example.com:5000/team/app:1", "registry.example.com:5000", "team/app", "1", null],
    ["localhost/app", "localhost", "app", null, null],
    ["localhost:5000/app:dev", "localhost:5000", "app", "dev", null],
    ["[::1]:5000/x", "[::1]:5000", "x", null, null],
    ["[::1]:5000/x:tag", "[::1]:5000", "x", "tag", null],
    ["[2001:db8::1]/ns/x", "[2001:db8::1]", "ns/x", null, null],
    ["Registry/app", "Registry", "app", null, null],
    [`python@${D}`, "docker.io", "library/python", null, D],
    [`python:3.12@${D}`, "docker.io", "library/python", "3.12", D],
    [`localhost:5000/a/b/c:t@${D}`, "localhost:5000", "a/b/c", "t", D],
    ["a__b/c-d.e_f---g", "docker.io", "a__b/c-d.e_f---g", null, null],
  ])("%s", (text, registry, repository, tag, digest) => {
    expect(ok(text)).toEqual({ registry, repository, tag, digest });
  });

  it("treats a name with a port and no path as name:tag, as Docker does", () => {
    expect(ok("localhost:5000")).toEqual({ registry: "docker.io", repository: "library/localhost", tag: "5000", digest: null });
  });

  it("accepts a tag of 128 characters and rejects 129", () => {
    const tag = `v${"1".repeat(127)}`;
    expect(ok(`app:${tag}`).tag).toBe(tag);
    expect(error(`app:${tag}1`)).toMatch(/longer than 128/);
  });

  it("accepts a name of 255 characters and rejects 256", () => {
    const name = (n: number) => `registry.example.com/${"a".repeat(n - "registry.example.com/".length)}`;
    expect(ok(name(255)).repository).toHaveLength(255 - "registry.example.com/".length);
    expect(error(name(256))).toMatch(/longer than 255/);
    expect(error("x".repeat(300))).toMatch(/longer than 255/);
  });
});

describe("parseReference: rejected", () => {
  it.each([
    ["", /empty/],
    ["Python", /lower case/],
    ["acme/App", /lower case/],
    ["ghcr.io/Acme/app", /lower case/],
    ["python:", /invalid tag/],
    ["python:-x", /invalid tag/],
    ["python:.x", /invalid tag/],
    ["python:a/b", /invalid repository path|lower case|invalid/],
    ["python 3", /white space/],
    ["python\t3", /white space/],
    [":3", /missing repository/],
    ["ghcr.io/", /missing repository/],
    ["-bad", /invalid repository path/],
    ["bad-", /invalid repository path/],
    ["a..b", /invalid repository path/],
    ["a//b", /invalid repository path/],
    ["exa_mple.com/app", /invalid registry/],
    ["localhost:port/app", /invalid registry/],
    ["${BASE}", /lower case|invalid/],
    ["python@", /invalid digest/],
    [`python@sha256:${"a".repeat(63)}`, /invalid digest/],
    [`python@sha256:${"a".repeat(65)}`, /invalid digest/],
    [`python@sha256:${"A".repeat(64)}`, /invalid digest/],
    [`python@sha256:${"g".repeat(64)}`, /invalid digest/],
    [`python@md5:${"a".repeat(32)}`, /invalid digest/],
    [`python@SHA256:${"a".repeat(64)}`, /invalid digest/],
    [`python@${"a".repeat(64)}`, /invalid digest/],
    [`python@${D}@${D}`, /invalid digest/],
    ["a".repeat(64), /image ID/],
  ])("%j", (text, message) => {
    expect(error(text)).toMatch(message);
  });
});

describe("isValidDigest", () => {
  it("accepts sha256, sha384 and sha512 with lower-case hex of the right length", () => {
    expect(isValidDigest(D)).toBe(true);
    expect(isValidDigest(`sha384:${"0".repeat(96)}`)).toBe(true);
    expect(isValidDigest(`sha512:${"f".repeat(128)}`)).toBe(true);
  });

  it.each([
    `sha256:${"a".repeat(63)}`,
    `sha256:${"a".repeat(65)}`,
    `sha256:${"a".repeat(63)}A`,
    `sha512:${"f".repeat(64)}`,
    `sha384:${"f".repeat(64)}`,
    `md5:${"a".repeat(32)}`,
    `sha256 :${"a".repeat(64)}`,
    `sha256:${"a".repeat(64)}\n`,
    "sha256:",
    "",
  ])("rejects %j", (digest) => {
    expect(isValidDigest(digest)).toBe(false);
  });
});

describe("formatting", () => {
  it("formats the normalized reference", () => {
    expect(formatReference(ok("python"))).toBe("docker.io/library/python");
    expect(formatReference(ok(`python:3.12@${D}`))).toBe(`docker.io/library/python:3.12@${D}`);
    expect(formatReference(ok("[::1]:5000/x:t"))).toBe("[::1]:5000/x:t");
    expect(imageName(ok("index.docker.io/acme/app:1"))).toBe("docker.io/acme/app");
  });

  it("round-trips: a formatted reference parses to itself", () => {
    for (const text of ["python:3", `ghcr.io/a/b@${D}`, "localhost:5000/x:y", "[::1]:5000/x"]) {
      const ref = ok(text);
      expect(ok(formatReference(ref))).toEqual(ref);
    }
  });

  it("maps Docker Hub to its API host and leaves others alone", () => {
    expect(apiHost("docker.io")).toBe("registry-1.docker.io");
    expect(apiHost("ghcr.io")).toBe("ghcr.io");
    expect(apiHost("localhost:5000")).toBe("localhost:5000");
  });
});

describe("pinnedText", () => {
  it.each([
    ["python:3.12-slim", `python:3.12-slim@${D}`],
    ["python", `python:latest@${D}`],
    ["library/python", `library/python:latest@${D}`],
    ["localhost:5000/app", `localhost:5000/app:latest@${D}`],
    ["localhost:5000/app:1", `localhost:5000/app:1@${D}`],
    ["[::1]:5000/x", `[::1]:5000/x:latest@${D}`],
    [`python:3.12@${D2}`, `python:3.12@${D}`],
    ["Docker.IO/Library/python:3", `Docker.IO/Library/python:3:latest@${D}`],
  ])("%s", (written, pinned) => {
    expect(pinnedText(written, D)).toBe(pinned);
  });

  it("keeps the written name and tag, and the result parses to the new digest", () => {
    const pinned = pinnedText("ghcr.io/acme/app:v1", D);
    expect(ok(pinned)).toEqual({ registry: "ghcr.io", repository: "acme/app", tag: "v1", digest: D });
  });
});
