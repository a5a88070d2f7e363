// Resolve benchmark: two real Distribution registries on loopback, 200 distinct multi-arch tags, 2,000 references
// (each tag ten times, shuffled, all at once) through the real RegistryClient, as one run (MemoResolver) and as the
// bare client. Reports the registry requests against the distinct tags (the goal: one HEAD per tag and run), wall
// time and peak RSS.

import { performance } from "node:perf_hooks";
import { LocalRegistry, registryAvailability } from "./harness/registry.js";
import type { ImageReference } from "../src/reference.js";
import { RegistryClient } from "../src/registry/client.js";
import { MemoResolver } from "../src/registry/shared.js";

const REGISTRIES = 2;
const REPOSITORIES_PER_REGISTRY = 4;
const TAGS_PER_REPOSITORY = 25; // 2 × 4 × 25 = 200 distinct tags
const REPEATS = 10; // 2,000 references

/** A deterministic shuffle (so runs are comparable). */
function shuffle<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

async function seed(registry: LocalRegistry, registryIndex: number): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  await Promise.all(
    Array.from({ length: REPOSITORIES_PER_REGISTRY }, async (_, r) => {
      const repository = `bench/repo${registryIndex}-${r}`;
      for (let t = 0; t < TAGS_PER_REPOSITORY; t++) {
        const tag = `v${t}`;
        const image = await registry.pushImage(repository, tag, {
          kind: "oci-index",
          platforms: ["linux/amd64", "linux/arm64/v8"],
        });
        digests.set(`${registry.host}/${repository}:${tag}`, image.digest);
      }
    }),
  );
  return digests;
}

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await run();
  return { value, ms: performance.now() - start };
}

export async function benchResolve(): Promise<Record<string, number | string>> {
  const availability = registryAvailability();
  if (!availability.available) {
    console.log(`resolve benchmark skipped: ${availability.reason}`);
    return { skipped: availability.reason };
  }
  const registries: LocalRegistry[] = [];
  const clients: RegistryClient[] = [];
  try {
    for (let i = 0; i < REGISTRIES; i++) registries.push(await LocalRegistry.start());
    const seeding = await timed(() => Promise.all(registries.map((r, i) => seed(r, i))));
    const expected = new Map(seeding.value.flatMap((m) => [...m]));
    for (const r of registries) {
      await r.requests(); // let the access logs catch up before dropping the seeding requests
      r.clearRequests();
    }

    const distinct: ImageReference[] = [...expected.keys()].map((key) => {
      const [host = "", rest = ""] = [key.slice(0, key.indexOf("/")), key.slice(key.indexOf("/") + 1)];
      const [repository = "", tag = ""] = rest.split(":");
      return { registry: host, repository, tag, digest: null };
    });
    const references = shuffle(Array.from({ length: REPEATS }, () => distinct).flat());
    const key = (r: ImageReference) => `${r.registry}/${r.repository}:${r.tag}`;

    // Cold: a new client, every reference at once (identical lookups in flight share one request).
    const client = new RegistryClient({ insecureRegistries: ["127.0.0.1"] });
    clients.push(client);
    const cold = await timed(() => Promise.all(references.map((r) => client.resolve(r))));
    const wrong = cold.value.filter((res, i) => res.digest !== expected.get(key(references[i] as ImageReference))).length;
    const coldStats = client.stats();
    const logged = (await Promise.all(registries.map((r) => r.requests()))).flat();

    // Again: the same references through the same client, as the next run would ask them: tags are read again
    // (connections and tokens are reused), and within that run each tag once (its memo).
    const run = new MemoResolver(client);
    const warm = await timed(() => Promise.all(references.map((r) => run.resolve(r))));
    const warmRequests = client.stats().requests.total - coldStats.requests.total;
    const repeat = await timed(() => Promise.all(references.map((r) => run.resolve(r))));
    const repeatRequests = client.stats().requests.total - coldStats.requests.total - warmRequests;

    // With platforms: a fresh client that also reads each index (HEAD + GET per tag).
    const withPlatforms = new RegistryClient({ insecureRegistries: ["127.0.0.1"] });
    clients.push(withPlatforms);
    const listed = await timed(() => Promise.all(references.map((r) => withPlatforms.resolve(r, { withPlatforms: true }))));
    const listedStats = withPlatforms.stats().requests;

    const peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
    const figures: Record<string, number | string> = {
      "registries": REGISTRIES,
      "distinct tags": distinct.length,
      "references resolved": references.length,
      "seeding (s)": Number((seeding.ms / 1000).toFixed(2)),
      "cold: wall (ms)": Math.round(cold.ms),
      "cold: references/s": Math.round(references.length / (cold.ms / 1000)),
      "cold: HEAD requests": coldStats.requests.head,
      "cold: GET requests": coldStats.requests.get,
      "cold: token requests": coldStats.requests.token,
      "cold: requests logged by registries": logged.length,
      "cold: coalesced resolutions": coldStats.coalesced,
      "cold: wrong digests": wrong,
      "next run: wall (ms)": Math.round(warm.ms),
      "next run: requests": warmRequests,
      "same run again: wall (ms)": Math.round(repeat.ms),
      "same run again: requests": repeatRequests,
      "withPlatforms: wall (ms)": Math.round(listed.ms),
      "withPlatforms: HEAD + GET": `${listedStats.head} + ${listedStats.get}`,
      "withPlatforms: platforms listed": listed.value.reduce((n, r) => n + (r.platforms?.length ?? 0), 0),
      "peak RSS (MB)": peakRssMb,
    };
    console.log(
      `resolve: ${references.length} references over ${distinct.length} distinct tags → ` +
        `${coldStats.requests.head} HEAD, ${coldStats.requests.get} GET, ${coldStats.requests.token} token requests ` +
        `(${logged.length} logged by the registries) in ${Math.round(cold.ms)} ms; the next run ${Math.round(warm.ms)} ms ` +
        `with ${warmRequests} requests, the same run again ${Math.round(repeat.ms)} ms with ${repeatRequests}; ` +
        `peak RSS ${peakRssMb} MB`,
    );
    return figures;
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(registries.map((r) => r.stop()));
  }
}
