import { describe, expect, it } from "vitest";
import { annotationRoot, escapeData, escapeProperty, renderAnnotations } from "../src/cli-annotations.js";
import type { Plan } from "../src/plan.js";
import { parseWorkflowCommand as decode } from "./helpers/workflow-commands.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

describe("workflow command escaping", () => {
  it("encodes %, CR and LF in data, and : and , in properties too", () => {
    expect(escapeData("100% done\r\n::set-env name=X::y")).toBe("100%25 done%0D%0A::set-env name=X::y");
    expect(escapeProperty("a:b,c%\n")).toBe("a%3Ab%2Cc%25%0A");
  });

  it("round-trips hostile paths and texts through the runner's decoding, one line per finding", () => {
    const path = "we,ird:dir/50%/Docker\nfile";
    const plan: Plan = {
      changes: [
        { path, line: 3, kind: "from", image: "docker.io/library/alpine", tag: "3.20", from: "alpine:3.20", to: `alpine:3.20@${D1}`, oldDigest: null, newDigest: D1, start: 0, end: 0 } as Plan["changes"][number],
        { path: "Dockerfile", line: 1, kind: "from", image: "docker.io/library/node", tag: "22", from: `node:22@${D1}`, to: `node:22@${D2}`, oldDigest: D1, newDigest: D2, start: 0, end: 0 } as Plan["changes"][number],
      ],
      errors: [{ path: "Dockerfile", line: 2, text: "ghcr.io/x/y:1", error: "registry answered 503\n::error::forged" }],
      skipped: [{ path: "Dockerfile", line: 4, text: "node:${V}", reason: "variable" }],
      current: [],
    };
    const lines = renderAnnotations(plan, { root: "svc/" }).trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines.map(decode)).toEqual([
      { level: "error", props: { file: `svc/${path}`, line: "3", title: "Unpinned image" }, message: `alpine:3.20 is not pinned to a digest; pin it to alpine:3.20@${D1}` },
      { level: "warning", props: { file: "svc/Dockerfile", line: "1", title: "Image digest drifted" }, message: `docker.io/library/node:22 now points to ${D2} (pinned: ${D1}); refresh it to node:22@${D2}` },
      { level: "error", props: { file: "svc/Dockerfile", line: "2", title: "Could not resolve image" }, message: "ghcr.io/x/y:1: registry answered 503\n::error::forged" },
      { level: "notice", props: { file: "svc/Dockerfile", line: "4", title: "Image skipped" }, message: "node:${V}: variable" },
      null,
    ]);
    expect(lines[4]).toBe("digest-pin: 1 unpinned, 1 drifted, 1 errors, 0 current, 1 skipped.");
  });

  it("makes paths relative to the workspace", () => {
    expect(annotationRoot(".", "/w")).toBe("");
    expect(annotationRoot("services/api", "/w")).toBe("services/api/");
    expect(annotationRoot("/w/a", "/w")).toBe("a/");
    expect(annotationRoot("/elsewhere", "/w")).toBe("/elsewhere/");
  });
});
