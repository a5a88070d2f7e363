// `npm run bench`: run every benchmark, or those named on the command line (e.g. `npm run bench -- scan`).
import { benchScan } from "./scan.js";
import { benchResolve } from "./resolve.js";
import { benchFleet } from "./fleet.js";
import { benchLoad } from "./load.js";
import { benchBounds } from "./bounds.js";

const benches: Record<string, () => Promise<Record<string, number | string>>> = {
  scan: benchScan,
  resolve: benchResolve,
  // 300 repositories, then 1,000, each with 20 needing a pull request. One fleet instead (DIGEST_PIN_FLEET_OCTOKIT=probot
  // for Probot's default client):
  // DIGEST_PIN_FLEET_REPOS=100 DIGEST_PIN_FLEET_PULLS=5 DIGEST_PIN_FLEET_LATENCY_MS=5 npm run bench -- fleet
  fleet: async () => {
    const env = process.env;
    const common = {
      latencyMs: env.DIGEST_PIN_FLEET_LATENCY_MS ? Number(env.DIGEST_PIN_FLEET_LATENCY_MS) : undefined,
      needingPulls: env.DIGEST_PIN_FLEET_PULLS ? Number(env.DIGEST_PIN_FLEET_PULLS) : undefined,
      octokit: env.DIGEST_PIN_FLEET_OCTOKIT === "probot" ? ("probot" as const) : undefined,
    };
    if (env.DIGEST_PIN_FLEET_REPOS) return benchFleet({ repos: Number(env.DIGEST_PIN_FLEET_REPOS), ...common });
    const small = await benchFleet({ repos: 300, ...common });
    const large = await benchFleet({ repos: 1000, ...common });
    return Object.fromEntries([
      ...Object.entries(small).map(([k, v]) => [`300: ${k}`, v]),
      ...Object.entries(large).map(([k, v]) => [`1000: ${k}`, v]),
    ]);
  },
  load: () => benchLoad(),
  bounds: benchBounds,
};

const wanted = process.argv.slice(2);
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  const figures = await bench();
  for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(36)} ${value}`);
}
