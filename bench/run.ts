// `npm run bench`: run every benchmark, or those named on the command line (e.g. `npm run bench -- scan`).
import { benchScan } from "./scan.js";
import { benchResolve } from "./resolve.js";
import { benchFleet } from "./fleet.js";
import { benchLoad } from "./load.js";
import { benchBounds } from "./bounds.js";

const benches: Record<string, () => Promise<Record<string, number | string>>> = {
  scan: benchScan,
  resolve: benchResolve,
  // A smaller or faster fleet: DIGEST_PIN_FLEET_REPOS=100 DIGEST_PIN_FLEET_LATENCY_MS=5 npm run bench -- fleet
  fleet: () =>
    benchFleet({
      repos: Number(process.env.DIGEST_PIN_FLEET_REPOS) || undefined,
      latencyMs: process.env.DIGEST_PIN_FLEET_LATENCY_MS ? Number(process.env.DIGEST_PIN_FLEET_LATENCY_MS) : undefined,
    }),
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
