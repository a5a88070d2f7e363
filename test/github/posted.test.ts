// The one place that bounds what is posted to GitHub from registries and repositories: error texts and error lists.
import { describe, expect, it } from "vitest";
import { MAX_LISTED_ERRORS, MAX_POSTED_ERROR, postedError, postedList } from "../../src/github/posted.js";

describe("postedError", () => {
  it("keeps a short text and cuts a long one to the limit, with an ellipsis", () => {
    expect(MAX_POSTED_ERROR).toBe(1_000);
    expect(postedError("refused 127.0.0.1:5000")).toBe("refused 127.0.0.1:5000");
    expect(postedError("x".repeat(MAX_POSTED_ERROR))).toBe("x".repeat(MAX_POSTED_ERROR));
    const cut = postedError("y".repeat(98_000_000 / 1000));
    expect(cut).toHaveLength(MAX_POSTED_ERROR);
    expect(cut.endsWith("y…")).toBe(true);
  });

  it("never splits a character made of two code units", () => {
    const cut = postedError(`${"a".repeat(MAX_POSTED_ERROR - 2)}😀😀`);
    expect(cut).toBe(`${"a".repeat(MAX_POSTED_ERROR - 2)}…`);
  });
});

describe("postedList", () => {
  it("lists the first 50 and counts the others in one line", () => {
    expect(MAX_LISTED_ERRORS).toBe(50);
    const items = Array.from({ length: 1_234 }, (_, i) => i);
    const lines = postedList(items, (i) => `- error ${i}`);
    expect(lines).toHaveLength(51);
    expect(lines[49]).toBe("- error 49");
    expect(lines[50]).toBe("- … and 1,184 more");
    expect(postedList([1, 2], (i) => `- ${i}`)).toEqual(["- 1", "- 2"]);
  });
});
