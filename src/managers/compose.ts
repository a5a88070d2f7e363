// Compose files: `services.<name>.image`. A value that is exactly `${VAR:-default}` (or `${VAR-default}`) has its
// default pinned in place; other interpolation is a variable. With `build:`, `image` names the image compose builds:
// not a reference (a digest there would break the build). `build.args` are build arguments of the Dockerfile built.

import { posix } from "node:path";
import { isMap, isScalar, isSeq, type Node } from "yaml";
import { lineAt } from "../dockerfile/text.js";
import { repoPath } from "./build-args.js";
import { mentions } from "./source.js";
import type { BuildArgUse, ExtractContext, Extraction, Manager } from "./types.js";
import { composeDefault, composeVariable } from "./variables.js";
import { readYaml, scalarReference, walkYaml, YamlNav, type YamlFile } from "./yaml.js";

const NAME = /^(?:docker-)?compose(?:\.[^/]+)?\.ya?ml$/;

function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The build arguments of one service's `build:` (a context string has none). */
function serviceBuildArgs(file: YamlFile, nav: YamlNav, build: Node, path: string): BuildArgUse[] {
  if (!isMap(build)) return [];
  const args = nav.resolve(nav.entries(build).get("args") ?? null);
  if (args === null) return [];
  if (nav.get(build, "dockerfile_inline") !== null) return [];
  const context = nav.string(nav.get(build, "context")) ?? ".";
  const dockerfile = nav.string(nav.get(build, "dockerfile")) ?? "Dockerfile";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(context) || context.startsWith("git@")) return []; // a remote context
  const target = posix.isAbsolute(dockerfile) ? undefined : repoPath(posix.dirname(path), context, dockerfile);
  const out: BuildArgUse[] = [];
  const add = (name: string, node: Node) => {
    const line = lineAt(file.src.lineStarts, node.range?.[0] ?? 0) + 1;
    out.push({ name, path, line, via: "compose build.args", ...(target === undefined ? {} : { dockerfile: target }) });
  };
  if (isMap(args)) {
    for (const pair of args.items) if (isScalar(pair.key)) add(String(pair.key.value), pair.key);
  } else if (isSeq(args)) {
    for (const item of nav.items(args)) {
      const text = nav.string(item);
      const name = text === null ? null : /^([A-Za-z_][A-Za-z0-9_]*)/.exec(text)?.[1];
      if (name) add(name, item);
    }
  }
  return out;
}

/** The references and build arguments of a compose file. */
function extract(content: Uint8Array, context: ExtractContext): Extraction {
  return walkYaml(readYaml(content), (file, nav, root, out) => {
    for (const [, service] of nav.entries(nav.get(root, "services"))) {
      const entries = nav.entries(service);
      const build = nav.resolve(entries.get("build") ?? null);
      if (build !== null) {
        out.buildArgs.push(...serviceBuildArgs(file, nav, build, context.path));
        continue;
      }
      const found = scalarReference(file, nav, entries.get("image") ?? null, {
        marker: "#",
        inner: composeDefault,
        variable: composeVariable,
      });
      if (found) out.references.push(found);
    }
  });
}

/** The compose manager. */
export const composeManager: Manager = {
  id: "compose",
  title: "Compose files",
  defaultPaths: [
    "**/compose.{yaml,yml}",
    "**/compose.*.{yaml,yml}",
    "**/docker-compose.{yaml,yml}",
    "**/docker-compose.*.{yaml,yml}",
  ],
  claims: (path) => NAME.test(baseName(path)),
  extract: (content, context) => (mentions(content, "image", "args") ? extract(content, context) : { references: [] }),
};
