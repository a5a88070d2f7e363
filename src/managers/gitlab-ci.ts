// GitLab CI: `image` and `services` (strings or `name:`), at the top level, in `default:` and in every job, of
// `.gitlab-ci.yml` and the local files it includes. `$VARIABLES` are variables. `--build-arg` in a job's scripts is
// a build argument of some Dockerfile.

import { isScalar, type Node } from "yaml";
import type { FoundReference } from "../dockerfile/types.js";
import { repoPath, scriptBuildArgs } from "./build-args.js";
import { mentions } from "./source.js";
import type { BuildArgUse, ExtractContext, Extraction, Manager } from "./types.js";
import { shellVariable } from "./variables.js";
import { readYaml, scalarReference, walkYaml, YamlNav, type YamlFile } from "./yaml.js";

/** Top-level keys that are not jobs (GitLab's global keywords). */
const GLOBAL_KEYWORDS = new Set(["default", "include", "stages", "variables", "workflow", "image", "services", "cache", "before_script", "after_script"]);
const SCRIPTS = ["script", "before_script", "after_script"];
const options = { marker: "#" as const, variable: shellVariable };
/** Local includes followed from one file. */
const MAX_INCLUDES = 50;

/** `image: x` or `image: { name: x }`. */
function imageOf(file: YamlFile, nav: YamlNav, value: Node | null): FoundReference | null {
  const node = nav.resolve(value);
  if (node === null) return null;
  return scalarReference(file, nav, isScalar(node) ? node : nav.entries(node).get("name") ?? null, options);
}

/** The `image` and `services` of a job, `default:` or the top level; and the build arguments of its scripts. */
function readJob(file: YamlFile, nav: YamlNav, job: Node | null, path: string, refs: FoundReference[], args: BuildArgUse[]): void {
  const entries = nav.entries(job);
  const image = imageOf(file, nav, entries.get("image") ?? null);
  if (image) refs.push(image);
  const services = nav.resolve(entries.get("services") ?? null);
  for (const service of isScalar(services) ? [services] : nav.items(services)) {
    const found = imageOf(file, nav, service);
    if (found) refs.push(found);
  }
  for (const key of SCRIPTS) {
    const range = nav.resolve(entries.get(key) ?? null)?.range;
    if (range) args.push(...scriptBuildArgs(file.src, range[0], range[1], path, `--build-arg in ${key}`));
  }
}

/** Local files an `include:` names (a string, a list, `local:` entries), as repository paths; no globs or remotes. */
function localIncludes(nav: YamlNav, include: Node | null): string[] {
  const node = nav.resolve(include);
  const entries = isScalar(node) ? [node] : node === null ? [] : nav.items(node).length > 0 ? nav.items(node) : [node];
  const out: string[] = [];
  for (const entry of entries) {
    const text = isScalar(entry) ? String(entry.value) : nav.string(nav.get(entry, "local"));
    if (text === null || /^[a-z][a-z0-9+.-]*:\/\//i.test(text) || /[*$]/.test(text)) continue;
    if (!isScalar(entry) && nav.get(entry, "project") !== null) continue;
    const path = repoPath(".", text.replace(/^\/+/, ""));
    if (path !== undefined && out.length < MAX_INCLUDES) out.push(path);
  }
  return out;
}

function extract(content: Uint8Array, context: ExtractContext): Extraction {
  return walkYaml(readYaml(content), (file, nav, root, out) => {
    const top = nav.entries(root);
    const job = (node: Node | null) => readJob(file, nav, node, context.path, out.references, out.buildArgs);
    job(root);
    job(top.get("default") ?? null);
    for (const [name, node] of top) if (!GLOBAL_KEYWORDS.has(name)) job(node);
    out.includes.push(...localIncludes(nav, top.get("include") ?? null));
  });
}

/** The GitLab CI manager. */
export const gitlabCiManager: Manager = {
  id: "gitlab-ci",
  title: "GitLab CI",
  defaultPaths: [".gitlab-ci.yml", ".gitlab-ci.yaml", "**/*.gitlab-ci.{yml,yaml}", ".gitlab/ci/**/*.{yml,yaml}"],
  claims: (path) =>
    path === ".gitlab-ci.yml" ||
    path === ".gitlab-ci.yaml" ||
    /\.gitlab-ci\.ya?ml$/.test(path) ||
    /^\.gitlab\/ci\/.+\.ya?ml$/.test(path),
  extract: (content, context) =>
    mentions(content, "image", "services", "include", "build-arg") ? extract(content, context) : { references: [] },
};
