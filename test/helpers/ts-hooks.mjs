// Lets a child process run the project's TypeScript without a build: `node --import ./test/helpers/ts-hooks.mjs x.ts`.
// Imports of "./y.js" from a .ts file resolve to ./y.ts when only that exists, and .ts files are transpiled (types
// stripped, no type check) with the project's own TypeScript. For tests that need a second process; vitest itself
// does this for in-process code.

import { existsSync, readFileSync } from "node:fs";
import { register } from "node:module";
import { URL, fileURLToPath } from "node:url";
import { isMainThread } from "node:worker_threads";

if (isMainThread) register(import.meta.url);

let ts;

export async function resolve(specifier, context, nextResolve) {
  const parent = context.parentURL;
  if (parent?.startsWith("file:") && parent.endsWith(".ts") && /^\.\.?\//.test(specifier) && specifier.endsWith(".js")) {
    const candidate = new URL(specifier.slice(0, -3) + ".ts", parent);
    if (!existsSync(fileURLToPath(new URL(specifier, parent))) && existsSync(fileURLToPath(candidate))) {
      return { url: candidate.href, shortCircuit: true, format: "module" };
    }
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("file:") || !url.endsWith(".ts")) return nextLoad(url, context);
  ts ??= (await import("typescript")).default;
  const fileName = fileURLToPath(url);
  const { outputText } = ts.transpileModule(readFileSync(fileName, "utf8"), {
    fileName,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false },
  });
  return { format: "module", source: outputText, shortCircuit: true };
}
