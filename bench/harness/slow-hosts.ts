// Many registries on loopback ports, in a process of their own (so that their memory is not the client's): each
// answers a tag's HEAD after a delay, or never. Started by bench/bounds.ts as
// `node dist/bench/harness/slow-hosts.js COUNT DELAY_MS|stall`; prints one JSON line, `{ "ports": [...] }`, then keeps
// a count of requests in flight at once over all of them and prints `{ "maxInFlight": n }` when its stdin closes.
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

const [countText = "0", delayText = "0"] = process.argv.slice(2);
const count = Number(countText);
const stall = delayText === "stall";
const delayMs = stall ? 0 : Number(delayText);

let inFlight = 0;
let maxInFlight = 0;
const servers: http.Server[] = [];
for (let i = 0; i < count; i++) {
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on("close", () => inFlight--);
    if (stall) return;
    setTimeout(() => {
      const digest = `sha256:${createHash("sha256").update(req.url ?? "").digest("hex")}`;
      res.writeHead(200, { "docker-content-digest": digest, "content-type": "application/vnd.oci.image.manifest.v1+json" });
      res.end();
    }, delayMs);
  });
  servers.push(server);
}
await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
process.stdout.write(`${JSON.stringify({ ports: servers.map((s) => (s.address() as AddressInfo).port) })}\n`);
process.stdin.resume();
process.stdin.on("end", () => {
  process.stdout.write(`${JSON.stringify({ maxInFlight })}\n`);
  for (const s of servers) s.closeAllConnections();
  process.exit(0);
});
