import { describe, expect, it } from "vitest";
import { devcontainerManager } from "../../src/managers/devcontainer.js";
import { brief, digest, extractWith, fixture, pinAndRescan } from "./helpers.js";

const D = digest;
const extract = (text: string | Buffer) => extractWith(devcontainerManager, text, ".devcontainer.json");

describe("devcontainer", () => {
  it("finds the top-level image of JSON with comments and trailing commas, and pins it in place", () => {
    const path = ".devcontainer/devcontainer.json";
    const bytes = fixture("devcontainer", path);
    expect(brief(devcontainerManager.extract(bytes, { path }).references)).toEqual([
      [5, "mcr.microsoft.com/devcontainers/typescript-node:1-20-bookworm", null],
    ]);
    const text = pinAndRescan(devcontainerManager, path, bytes, D).out.toString();
    expect(text).toBe(bytes.toString().replace("1-20-bookworm", `1-20-bookworm@${D(0)}`));
  });

  it("skips variables and honours // digest-pin: ignore", () => {
    const python = ".devcontainer/python/devcontainer.json";
    expect(brief(devcontainerManager.extract(fixture("devcontainer", python), { path: python }).references)).toEqual([
      [3, "mcr.microsoft.com/devcontainers/python:${localEnv:PYTHON_VERSION}", "variable"],
    ]);
    const go = ".devcontainer/go/devcontainer.json";
    expect(brief(devcontainerManager.extract(fixture("devcontainer", go), { path: go }).references)).toEqual([
      [4, "mcr.microsoft.com/devcontainers/go:1-1.22-bookworm", "ignored-inline"],
    ]);
    expect(extract('{ "image": "alpine:3" // digest-pin: ignore\n}').references[0]?.skip).toBe("ignored-inline");
  });

  it("reads only the top-level image, and reports what it cannot rewrite", () => {
    expect(extract('{ "build": { "image": "x:1" }, "name": "image" }').references).toEqual([]);
    expect(extract('{ "image": "alpine\\u003a3" }').references[0]).toMatchObject({ skip: "invalid" });
    expect(extract('{ "image": 3 }').references[0]).toMatchObject({ skip: "invalid" });
    expect(extract('\uFEFF{ "image": "é/alpine:3" }').references[0]).toMatchObject({ skip: "invalid" });
    expect(extract('\uFEFF{ "name": "é", "image": "alpine:3" }').references.map((r) => r.text)).toEqual(["alpine:3"]);
  });

  it("skips a file that is not JSON", () => {
    expect(extract('{ "image": "alpine:3", ').skipped?.reason).toBe("unreadable");
    expect(extract(Buffer.from([0x7b, 0x22, 0x69, 0x6d, 0x61, 0x67, 0x65, 0xff])).skipped?.reason).toBe("unreadable");
  });

  it.each([
    [".devcontainer/devcontainer.json", true],
    [".devcontainer.json", true],
    [".devcontainer/python/devcontainer.json", true],
    [".devcontainer/a/b/devcontainer.json", false],
    ["devcontainer.json", false],
  ])("claims %s: %s", (path, claimed) => {
    expect(devcontainerManager.claims(path)).toBe(claimed);
  });
});
