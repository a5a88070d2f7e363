import { describe, expect, it } from "vitest";
import { SecondaryLimits, isMutation, weigh } from "../../bench/harness/secondary-limits.js";

const GET = weigh("GET", "GET /repos/{owner}/{repo}", false);
const POST = weigh("POST", "POST /repos/{owner}/{repo}/git/blobs", false);
const PATCH = weigh("PATCH", "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", false);

describe("GitHub's secondary rate limits, as the stand-in keeps them", () => {
  it("weighs requests by GitHub's points table", () => {
    expect(GET).toEqual({ endpoint: "rest", points: 1, creates: false });
    expect(POST).toEqual({ endpoint: "rest", points: 5, creates: true });
    expect(weigh("PATCH", "PATCH /repos/{owner}/{repo}/pulls/{pull_number}", false)).toEqual({ endpoint: "rest", points: 5, creates: false });
    expect(weigh("POST", "POST /graphql", false)).toEqual({ endpoint: "graphql", points: 1, creates: false });
    expect(weigh("POST", "POST /graphql", true)).toEqual({ endpoint: "graphql", points: 5, creates: true });
    expect(weigh("POST", "POST /app/installations/{installation_id}/access_tokens", false).creates).toBe(false);
    expect(isMutation("mutation M { addStar(input: {}) { clientMutationId } }")).toBe(true);
    expect(isMutation("query Q { repository(owner: \"a\", name: \"b\") { id } }")).toBe(false);
  });

  it("allows 900 REST points in any minute by default, then answers with when there is room again", () => {
    let now = 0;
    const limits = new SecondaryLimits({}, () => now);
    for (let i = 0; i < 100; i++) expect(limits.admit("installation:1", PATCH).ok).toBe(true); // 500 points
    for (let i = 0; i < 400; i++) expect(limits.admit("installation:1", GET).ok).toBe(true); // 900
    now = 30_000;
    expect(limits.admit("installation:1", GET)).toEqual({ ok: false, limit: "rest-points", retryAfterSeconds: 30 });
    // Another actor has a budget of its own; GraphQL is counted apart.
    expect(limits.admit("installation:2", GET).ok).toBe(true);
    expect(limits.admit("installation:1", weigh("POST", "POST /graphql", false)).ok).toBe(true);
    now = 60_000;
    expect(limits.admit("installation:1", GET).ok).toBe(true);
  });

  it("allows 2,000 GraphQL points a minute", () => {
    const limits = new SecondaryLimits({}, () => 0);
    const query = weigh("POST", "POST /graphql", false);
    for (let i = 0; i < 2000; i++) expect(limits.admit("app", query).ok).toBe(true);
    expect(limits.admit("app", query)).toMatchObject({ ok: false, limit: "graphql-points" });
  });

  it("allows 80 content-generating requests a minute and 500 an hour", () => {
    let now = 0;
    const limits = new SecondaryLimits({}, () => now);
    const create = () => limits.admit("installation:1", POST);
    for (let minute = 0; minute < 6; minute++) {
      now = minute * 61_000;
      for (let i = 0; i < 80; i++) expect(create().ok).toBe(true);
      expect(create()).toMatchObject({ ok: false, limit: "content-minute" });
    }
    now = 6 * 61_000;
    for (let i = 0; i < 20; i++) expect(create().ok).toBe(true); // 500 this hour
    now = 7 * 61_000;
    const refused = create();
    expect(refused).toMatchObject({ ok: false, limit: "content-hour" });
    expect(refused.ok === false && refused.retryAfterSeconds).toBe(3600 - 7 * 61);
  });

  it("allows 100 requests in flight per actor", () => {
    const limits = new SecondaryLimits({}, () => 0);
    const leave = Array.from({ length: 101 }, () => limits.enter("installation:1"));
    expect(limits.admit("installation:1", GET)).toMatchObject({ ok: false, limit: "concurrency" });
    expect(limits.admit("installation:2", GET).ok).toBe(true);
    leave[0]?.();
    leave[0]?.(); // leaving twice counts once
    expect(limits.admit("installation:1", GET).ok).toBe(true);
  });
});
