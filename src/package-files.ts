// Files that ship beside the code in the npm package and the image (package.json, app.yml): found by walking up from
// this module, so that they are found from src/ (tests), dist/src/ (a checkout) and node_modules/digest-pin/dist/src/
// (an installed package) alike, whatever the working directory.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

/** The directory of digest-pin's own package.json. */
export function packageRoot(): string {
  if (root) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "package.json");
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, "utf8")) as { name?: string }).name === "digest-pin") {
      return (root = dir);
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("digest-pin's package.json was not found above its code");
    dir = parent;
  }
}

/**
 * A file of the package, as text.
 *
 * @example readPackageFile("app.yml").startsWith("#") // true
 */
export function readPackageFile(name: string): string {
  return readFileSync(join(packageRoot(), name), "utf8");
}
