// The linear-time glob matcher behind ignorePaths and ignoreImages: it answers as picomatch does (the matcher the
// config used before, kept as the oracle) on the syntax both read alike, refuses what it does not read, and its work
// grows with pattern length × text length, never exponentially: the pattern that took picomatch 37 s against a
// 60-component path costs a few thousand steps.
import fc from "fast-check";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { compileGlob, GLOB_LIMITS, GlobError, globMatcher, type StepCounter } from "../../src/github/glob.js";

describe("compileGlob", () => {
  it.each([
    ["dev/**", "dev/Dockerfile", true],
    ["dev/**", "dev", true],
    ["dev/**", "develop/Dockerfile", false],
    ["**/*.test.Dockerfile", "svc/api/unit.test.Dockerfile", true],
    ["**/*.test.Dockerfile", "unit.test.Dockerfile", true],
    ["**/Dockerfile", ".devcontainer/Dockerfile", true],
    ["ghcr.io/acme/*", "ghcr.io/acme/app", true],
    ["ghcr.io/acme/*", "ghcr.io/acme/team/app", false],
    ["a/**/b", "a/b", true],
    ["a/**/b", "a/x/y/b", true],
    ["a?c", "abc", true],
    ["a?c", "a/c", false],
    ["[a-c]x", "bx", true],
    ["[!a-c]x", "dx", true],
    ["[^a-c]x", "bx", false],
    ["{api,web}/Dockerfile", "web/Dockerfile", true],
    ["{api,web/{a,b}}/Dockerfile", "web/b/Dockerfile", true],
    ["{a}", "{a}", true],
    ["\\*", "*", true],
    ["\\*", "x", false],
    ["!dev/**", "prod/Dockerfile", true],
    ["!dev/**", "dev/Dockerfile", false],
    ["./dev/**", "dev/Dockerfile", true],
    ["python*", "python", true],
    ["*", "", false],
  ])("%s against %s is %s", (pattern, text, expected) => {
    expect(compileGlob(pattern).match(text)).toBe(expected);
  });

  it.each([
    ["@(a|b)", "extended globs such as @(…) are not supported"],
    ["x/!(a)", "extended globs such as !(…) are not supported"],
    ["+(a)", "extended globs such as +(…) are not supported"],
    ["file{1..3}", "brace ranges such as {1..3} are not supported; list the alternatives"],
    ["[[:alpha:]]", "POSIX classes such as [[:alpha:]] are not supported"],
    ["**.Dockerfile", "`**` must be a whole path segment (write **/*.Dockerfile, not **.Dockerfile)"],
    ["a/b**", "`**` must be a whole path segment (write **/*.Dockerfile, not **.Dockerfile)"],
    ["a\u0000b", "control characters are not allowed"],
    ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}", `its braces expand to more than ${GLOB_LIMITS.alternatives} alternatives`],
  ])("refuses %s, naming it", (pattern, reason) => {
    expect(() => compileGlob(pattern)).toThrow(new GlobError(`pattern ${JSON.stringify(pattern)}: ${reason}`));
  });

  it("stops a brace bomb at the limit instead of expanding it", () => {
    const bomb = "{a,b}".repeat(40); // 2^40 alternatives
    expect(() => compileGlob(bomb)).toThrow("more than 32 alternatives");
  });

  it("matches the pattern that took picomatch 37 s in a few thousand steps, linear in the text", () => {
    const pattern = "**/*/**/*/**/*/**/*/**/*/**/*/**/*/c";
    const glob = compileGlob(pattern);
    for (const components of [15, 30, 60, 120]) {
      const path = Array.from({ length: components }, () => "aaaa").join("/");
      const counter: StepCounter = { steps: 0 };
      expect(glob.match(path, counter)).toBe(false);
      expect(glob.match(`${path}/c`)).toBe(true);
      expect(counter.steps).toBeLessThanOrEqual((pattern.length + 1) * (path.length + 1));
    }
    const at = (components: number) => {
      const counter: StepCounter = { steps: 0 };
      glob.match(Array.from({ length: components }, () => "aaaa").join("/"), counter);
      return counter.steps;
    };
    // Twice the path, about twice the work (picomatch's backtracking grows with a power of it).
    expect(at(120) / at(60)).toBeLessThan(2.2);
  });

  it("keeps a hostile segment pattern linear too", () => {
    const pattern = `${"*a".repeat(40)}b`;
    const text = "a".repeat(4_000);
    const counter: StepCounter = { steps: 0 };
    expect(compileGlob(pattern).match(text, counter)).toBe(false);
    expect(counter.steps).toBeLessThanOrEqual((pattern.length + 1) * (text.length + 1));
  });
});

describe("globMatcher", () => {
  it("matches when any pattern does, answering each text once", () => {
    const counter: StepCounter = { steps: 0 };
    const ignored = globMatcher(["dev/**", "tools/Dockerfile"], counter);
    expect(ignored("dev/a/Dockerfile")).toBe(true);
    expect(ignored("tools/Dockerfile")).toBe(true);
    expect(ignored("Dockerfile")).toBe(false);
    const spent = counter.steps;
    expect(ignored("dev/a/Dockerfile")).toBe(true);
    expect(counter.steps).toBe(spent);
  });

  it("stops at the step budget with a GlobError", () => {
    const counter: StepCounter = { steps: 0, limit: 10_000 };
    const ignored = globMatcher([`${"*a".repeat(50)}b`], counter);
    expect(() => ignored("a".repeat(1_000))).toThrow(new GlobError("matching the patterns took more than 10000 steps"));
  });
});

describe("agreement with picomatch", () => {
  // Segments picomatch and this matcher read alike (picomatch also lets `[ab]` match the literal text "[ab]", and
  // reads `[!a]` as a class of "!" and "a"; texts here hold no brackets or "!", and classes are negated with ^).
  // Braces have no empty alternative: picomatch reads braces as regular-expression groups, which with an empty
  // alternative next to `/**/` differs from the shell's expansion.
  const atom = fc.constantFrom("a", "b", "c", ".", "-", "*", "?", "[ab]", "[a-b]", "[^a]", "{a,b}", "{b,ca}");
  const segment = fc.oneof(
    { weight: 5, arbitrary: fc.array(atom, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("")) },
    { weight: 2, arbitrary: fc.constant("**") },
  );
  const pattern = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join("/"));
  // No `.` or `..` segments: git paths and image names have none (picomatch never lets `**` match them).
  const text = fc
    .array(fc.stringMatching(/^[abc.-]{1,4}$/).filter((s) => s !== "." && s !== ".."), { minLength: 1, maxLength: 6 })
    .map((segments) => segments.join("/"));

  it("answers as picomatch with dot: true does", () => {
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 1, maxLength: 8 }), (p, texts) => {
        let ours;
        try {
          ours = compileGlob(p);
        } catch (error) {
          fc.pre(!(error instanceof GlobError && /alternatives|whole path segment/.test(error.message)));
          throw error;
        }
        const theirs = picomatch(p, { dot: true });
        for (const t of texts) expect(ours.match(t), `${p} against ${t}`).toBe(theirs(t));
      }),
      { numRuns: 2_000 },
    );
  });
});
