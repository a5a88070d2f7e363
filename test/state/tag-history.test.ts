import { describe, expect, it } from "vitest";
import { HISTORY_TTL_MS, MAX_SEEN, TagHistory } from "../../src/state/tag-history.js";
import { MemoryStore } from "../../src/state/store.js";

const digest = (i: number) => `sha256:${i.toString(16).padStart(64, "0")}`;
const HOUR = 3_600_000;

describe("TagHistory", () => {
  it("remembers each digest a tag pointed at once, with when it was first seen", async () => {
    let now = 1_000_000;
    const history = new TagHistory(new MemoryStore({ now: () => now }), () => now);
    await history.record("docker.io/library/python", "3.12", digest(1));
    now += HOUR;
    await history.record("docker.io/library/python", "3.12", digest(1));
    await history.record("docker.io/library/python", "3.12", digest(2));
    expect(await history.seen("docker.io/library/python", "3.12")).toEqual([
      { digest: digest(1), firstSeen: 1_000_000 },
      // Seen to appear while the tag pointed elsewhere: not older than that, whatever its image says.
      { digest: digest(2), firstSeen: 1_000_000 + HOUR, appeared: true },
    ]);
    expect(await history.seen("docker.io/library/python", "3.13")).toEqual([]);
  });

  it("keeps at most MAX_SEEN a tag, spread over time: the newest and the oldest stay", async () => {
    let now = 0;
    const history = new TagHistory(new MemoryStore(), () => now);
    for (let i = 0; i < 200; i++) {
      now = i * HOUR;
      await history.record("x.io/a", "1", digest(i));
    }
    const seen = await history.seen("x.io/a", "1");
    expect(seen).toHaveLength(MAX_SEEN);
    expect(seen[0]?.digest).toBe(digest(0));
    expect(seen.at(-1)?.digest).toBe(digest(199));
    // Spread out: an entry between 3 and 24 hours old survives for minimumAge to pick.
    expect(seen.some((e) => now - e.firstSeen >= 3 * HOUR && now - e.firstSeen <= 24 * HOUR)).toBe(true);
  });

  it("forgets entries older than its TTL, and the store expires the record", async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    const history = new TagHistory(store, () => now);
    await history.record("x.io/a", "1", digest(1));
    now = HISTORY_TTL_MS / 2;
    await history.record("x.io/a", "1", digest(2));
    now = HISTORY_TTL_MS + 1;
    expect((await history.seen("x.io/a", "1")).map((e) => e.digest)).toEqual([digest(2)]);
    now = HISTORY_TTL_MS * 2;
    expect(await store.get("tag-history:x.io/a:1")).toBeNull();
  });

  it("ignores damaged records and values that are not digests", async () => {
    const store = new MemoryStore();
    const history = new TagHistory(store, () => 5);
    await store.set("tag-history:x.io/a:1", "{not json");
    expect(await history.seen("x.io/a", "1")).toEqual([]);
    await store.set("tag-history:x.io/a:1", JSON.stringify({ v: 1, seen: [{ digest: "latest", firstSeen: 1 }, { digest: digest(3), firstSeen: "x" }] }));
    expect(await history.seen("x.io/a", "1")).toEqual([]);
    await history.record("x.io/a", "1", "not-a-digest");
    expect(await history.seen("x.io/a", "1")).toEqual([]);
  });
});
