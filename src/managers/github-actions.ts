// GitHub Actions workflows: `jobs.<id>.container` (a string or `.image`), `jobs.<id>.services.<name>` (a string or
// `.image`) and `steps[].uses: docker://image:tag`. `${{ }}` expressions are variables. Build arguments come from
// docker/build-push-action's `build-args` (for the Dockerfile its `file`/`context` name) and `--build-arg` in `run:`.

import { isScalar, type Node } from "yaml";
import type { FoundReference } from "../dockerfile/types.js";
import { listedBuildArgs, repoPath, scriptBuildArgs } from "./build-args.js";
import { mentions } from "./source.js";
import type { BuildArgUse, ExtractContext, Extraction, Manager } from "./types.js";
import { actionsExpression } from "./variables.js";
import { readYaml, scalarReference, walkYaml, YamlNav, type YamlFile } from "./yaml.js";

const WORKFLOW = /^\.github\/workflows\/[^/]+\.ya?ml$/;
const DOCKER_PREFIX = "docker://";
const options = { marker: "#" as const, variable: actionsExpression };

/** An image given as a string, or as a mapping with `image` (a job's container, a service). */
function imageOf(file: YamlFile, nav: YamlNav, value: Node | null): FoundReference | null {
  const node = nav.resolve(value);
  if (node === null) return null;
  return scalarReference(file, nav, isScalar(node) ? node : nav.entries(node).get("image") ?? null, options);
}

/** The Dockerfile docker/build-push-action builds: `file`, else `<context>/Dockerfile` (the repository root by default). */
function buildPushDockerfile(nav: YamlNav, inputs: Node | null): string | undefined {
  const file = nav.string(nav.get(inputs, "file"));
  const context = nav.string(nav.get(inputs, "context"));
  if (file !== null) return repoPath(".", file);
  if (context !== null) return repoPath(".", context, "Dockerfile");
  return "Dockerfile";
}

/** The build arguments a step passes. */
function stepBuildArgs(file: YamlFile, nav: YamlNav, step: Node, path: string): BuildArgUse[] {
  const uses = nav.string(nav.get(step, "uses")) ?? "";
  const out: BuildArgUse[] = [];
  if (/^docker\/build-push-action(@|$)/.test(uses)) {
    const inputs = nav.get(step, "with");
    const dockerfile = buildPushDockerfile(nav, inputs);
    const range = nav.resolve(nav.entries(inputs).get("build-args") ?? null)?.range;
    if (range) out.push(...listedBuildArgs(file.src, range[0], range[1], path, "docker/build-push-action build-args", dockerfile));
  }
  const run = nav.resolve(nav.entries(step).get("run") ?? null);
  if (run?.range) out.push(...scriptBuildArgs(file.src, run.range[0], run.range[1], path, "--build-arg in a run step"));
  return out;
}

function extract(content: Uint8Array, context: ExtractContext): Extraction {
  return walkYaml(readYaml(content), (file, nav, root, out) => {
    for (const [, job] of nav.entries(nav.get(root, "jobs"))) {
      const entries = nav.entries(job);
      const container = imageOf(file, nav, entries.get("container") ?? null);
      if (container) out.references.push(container);
      for (const [, service] of nav.entries(entries.get("services") ?? null)) {
        const found = imageOf(file, nav, service);
        if (found) out.references.push(found);
      }
      for (const step of nav.items(entries.get("steps") ?? null)) {
        const uses = nav.entries(step).get("uses") ?? null;
        const text = nav.string(uses);
        if (text !== null && text.startsWith(DOCKER_PREFIX)) {
          const found = scalarReference(file, nav, uses, { ...options, prefix: DOCKER_PREFIX });
          if (found) out.references.push(found);
        }
        out.buildArgs.push(...stepBuildArgs(file, nav, step, context.path));
      }
    }
  });
}

/** The GitHub Actions manager. */
export const githubActionsManager: Manager = {
  id: "github-actions",
  title: "GitHub Actions workflows",
  defaultPaths: [".github/workflows/*.{yml,yaml}"],
  claims: (path) => WORKFLOW.test(path),
  extract: (content, context) =>
    mentions(content, "container", "services", DOCKER_PREFIX, "build-arg") ? extract(content, context) : { references: [] },
};
