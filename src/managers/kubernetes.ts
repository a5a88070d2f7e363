// Kubernetes manifests (multi-document YAML): the `image` of every container, init container and ephemeral container
// of every pod spec (a Pod's `spec`, and `spec.template.spec` or `spec.jobTemplate.spec.template.spec` of any kind:
// Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Argo Rollouts, Knative…), and a kustomization's
// `images:` (pinned by setting `digest`). Helm templates are not the YAML they become: skipped as a whole.

import { isMap, isScalar, visit, type Node, type Scalar, type YAMLMap } from "yaml";
import type { FoundReference } from "../dockerfile/types.js";
import { mentions, referenceAt, skippedFile } from "./source.js";
import type { ExtractContext, Extraction, Manager } from "./types.js";
import { shellVariable } from "./variables.js";
import { readYaml, scalarReference, scalarSite, walkYaml, type YamlFile, type YamlNav } from "./yaml.js";

const DIRECTORIES = new Set([
  "k8s",
  "kubernetes",
  "manifests",
  "deploy",
  "deployment",
  "deployments",
  "kustomize",
  "base",
  "bases",
  "overlays",
  "rendered",
]);
const CONTAINER_LISTS = ["containers", "initContainers", "ephemeralContainers"];
const KUSTOMIZATION = /(?:^|\/)kustomization\.ya?ml$/;

/** A template expression in a value (a chart template that parsed as YAML). */
function variable(text: string): string | null {
  if (text.includes("{{")) return "uses a template expression, whose value digest-pin cannot know";
  return shellVariable(text);
}

const options = { marker: "#" as const, variable };

/**
 * Helm (or other Go) templating decides the YAML: any `{{` in a chart's `templates/` folder, in a file that is not
 * valid YAML, or outside the scalars of one that is. Inside a scalar it is data (alert templates in a ConfigMap).
 */
function templated(path: string, text: string, file: YamlFile | null): boolean {
  if (!text.includes("{{")) return false;
  if (file === null || /(?:^|\/)templates\//.test(path)) return true;
  const spans: Array<[number, number]> = [];
  for (const doc of file.docs) {
    visit(doc, {
      Scalar: (_key, node) => {
        if (node.range) spans.push([node.range[0], node.range[1]]);
      },
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  let span = 0;
  for (let at = text.indexOf("{{"); at !== -1; at = text.indexOf("{{", at + 2)) {
    while (span < spans.length && (spans[span] as [number, number])[1] <= at) span++;
    const current = spans[span];
    if (current === undefined || current[0] > at) return true;
  }
  return false;
}

/** The pod specs of one object (a List's items included). */
function podSpecs(nav: YamlNav, object: Node | null, depth = 0): Node[] {
  const kind = nav.string(nav.get(object, "kind"));
  if (kind === null || nav.string(nav.get(object, "apiVersion")) === null) return [];
  if (kind === "List" && depth === 0) return nav.items(nav.get(object, "items")).flatMap((item) => podSpecs(nav, item, 1));
  const spec = nav.get(object, "spec");
  const candidates = [
    kind === "Pod" ? spec : null,
    kind === "PodTemplate" ? nav.get(nav.get(object, "template"), "spec") : null,
    nav.get(nav.get(spec, "template"), "spec"),
    nav.get(nav.get(nav.get(nav.get(spec, "jobTemplate"), "spec"), "template"), "spec"),
  ];
  return candidates.filter((c): c is Node => c !== null && CONTAINER_LISTS.some((k) => nav.get(c, k) !== null));
}

/** A kustomization `images:` entry: `name`, `newName`, `newTag`, `digest`; pinned by writing `digest`. */
function kustomizeImage(file: YamlFile, nav: YamlNav, entry: Node): FoundReference | null {
  if (!isMap(entry)) return null;
  const entries = nav.entries(entry);
  const nameNode = nav.resolve(entries.get("name") ?? null);
  if (!isScalar(nameNode)) return null;
  const field = (key: string) => nav.string(entries.get(key) ?? null);
  const name = field("newName") ?? String(nameNode.value);
  const tag = field("newTag");
  const digest = field("digest");
  const spelled = `${name}${tag === null ? "" : `:${tag}`}${digest === null ? "" : `@${digest}`}`;
  const at = scalarSite(file.src, nameNode);
  const site = "reason" in at ? at.site : at;
  const found = referenceAt(file.src, site, { ...options, spelled });
  if (found.skip !== null) return found;
  if (tag === null && digest === null) {
    return { ...found, reference: null, skip: "variable", skipDetail: "no newTag: the tag comes from the manifests it applies to" };
  }
  const pin = digestSite(file, nav, entry as YAMLMap);
  if (typeof pin === "string") return { ...found, reference: null, skip: "invalid", skipDetail: pin };
  return { ...found, pin };
}

/** Where the entry's digest goes: over its `digest:` value, or a new `digest:` key after its last one. */
function digestSite(file: YamlFile, nav: YamlNav, entry: YAMLMap): FoundReference["pin"] | string {
  const src = file.src;
  const existing = nav.resolve(nav.entries(entry).get("digest") ?? null);
  if (existing !== null) {
    const site = isScalar(existing) ? scalarSite(src, existing) : null;
    if (site === null || "reason" in site) return "its digest: value cannot be rewritten in place";
    const expected = src.text.slice(site.start, site.end);
    return { start: src.byteAt(site.start), end: src.byteAt(site.end), before: "", after: "", expected };
  }
  const last = entry.items[entry.items.length - 1];
  const value = last?.value as Scalar | null | undefined;
  if (!last || !isScalar(last.key) || !isScalar(value)) return "its last key has no plain value to add digest: after";
  const valueSite = scalarSite(src, value);
  if ("reason" in valueSite) return "its last value spans several lines: add digest: by hand";
  if (entry.flow) {
    const at = src.byteAt(valueSite.after);
    return { start: at, end: at, before: ", digest: ", after: "", expected: "" };
  }
  // A new line after the last key's line, at the column of the entry's first key.
  const keyStart = (entry.items[0]?.key as Scalar).range?.[0] ?? 0;
  let lineStart = keyStart;
  while (lineStart > 0 && src.text[lineStart - 1] !== "\n" && src.text[lineStart - 1] !== "\r") lineStart--;
  let lineEnd = valueSite.after;
  while (lineEnd < src.text.length && src.text[lineEnd] !== "\n" && src.text[lineEnd] !== "\r") lineEnd++;
  const eol = src.text[lineEnd] === "\r" || (lineEnd === src.text.length && src.text.includes("\r\n")) ? "\r\n" : "\n";
  const at = src.byteAt(lineEnd);
  return { start: at, end: at, before: `${eol}${" ".repeat(keyStart - lineStart)}digest: `, after: "", expected: "" };
}

/** Documents worth parsing: those that may name an image, or hold templating (a Service or Role needs no parse). */
const worthParsing = (document: string) => document.includes("image") || document.includes("{{");

function extract(content: Uint8Array, context: ExtractContext): Extraction {
  const read = readYaml(content, worthParsing);
  if (!read.ok && read.reason === "too-large") return skippedFile(read.reason, read.detail);
  const text = read.ok ? read.file.src.text : Buffer.from(content).toString("latin1");
  if (templated(context.path, text, read.ok ? read.file : null)) {
    return skippedFile("templated", "Helm templating ({{ }}): the file is not the YAML it renders to");
  }
  const isKustomization = KUSTOMIZATION.test(context.path);
  return walkYaml(read, (file, nav, root, out) => {
    for (const spec of podSpecs(nav, root)) {
      for (const list of CONTAINER_LISTS) {
        for (const container of nav.items(nav.get(spec, list))) {
          const found = scalarReference(file, nav, nav.entries(container).get("image") ?? null, options);
          if (found) out.references.push(found);
        }
      }
    }
    if (isKustomization || nav.string(nav.get(root, "kind")) === "Kustomization") {
      for (const entry of nav.items(nav.get(root, "images"))) {
        const found = kustomizeImage(file, nav, entry);
        if (found) out.references.push(found);
      }
    }
  });
}

/** Whether a path is a YAML file in a folder that typically holds manifests, or a kustomization. */
function claims(path: string): boolean {
  if (!/\.ya?ml$/.test(path)) return false;
  if (KUSTOMIZATION.test(path) || /\.k8s\.ya?ml$/.test(path)) return true;
  const segments = path.split("/");
  for (let i = 0; i < segments.length - 1; i++) if (DIRECTORIES.has(segments[i] as string)) return true;
  return /(?:^|\/)config\/(?:manager|default)\/[^/]+$/.test(path);
}

/** The Kubernetes manager. */
export const kubernetesManager: Manager = {
  id: "kubernetes",
  title: "Kubernetes manifests",
  defaultPaths: [
    ...[...DIRECTORIES].map((d) => `**/${d}/**/*.{yaml,yml}`),
    "**/kustomization.{yaml,yml}",
    "**/*.k8s.{yaml,yml}",
    "**/config/{manager,default}/*.{yaml,yml}",
  ],
  claims,
  extract: (content, context) => (mentions(content, "image", "{{") ? extract(content, context) : { references: [] }),
};
