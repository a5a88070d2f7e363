// `npm run bench`: run every benchmark, or those named on the command line (e.g. `npm run bench -- scan`).
import { benchScan } from "./scan.js";
import { benchResolve } from "./resolve.js";

const benches: Record<string, () => Promise<Record<string, number | string>>> = {
  scan: benchScan,
  resolve: benchResolve,
};

const wanted = process.argv.slice(2);
for (const [name, bench] of Object.entries(benches)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n== ${name} ==`);
  const figures = await bench();
  for (const [key, value] of Object.entries(figures)) console.log(`${key.padEnd(36)} ${value}`);
}
