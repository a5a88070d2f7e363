// Bounds on the work one file can cost: repository content chooses every one of these files.

/** Dockerfiles and JSON files larger than this are not read (as src/github/files.ts and the CLI). */
export const MAX_FILE_BYTES = 1024 * 1024;
/**
 * YAML files larger than this are not read. The `yaml` parser manages about 2–6 MB/s on small files and less on
 * large dense ones, and one file is parsed in one go: this keeps one file to tens of milliseconds. Real workflows,
 * compose files and manifests are far smaller; a larger rendered bundle is reported as skipped, not silently lost.
 */
export const MAX_YAML_BYTES = 256 * 1024;
/**
 * Lines and flow items (line breaks plus commas, an upper bound on the nodes) in one YAML file: the parser's time
 * goes with the number of nodes (some microseconds each), and a rendered app is a few thousand lines.
 */
export const MAX_YAML_NODES = 10_000;
/** Documents in one YAML stream (a rendered chart is a few hundred at most). */
export const MAX_YAML_DOCUMENTS = 500;
/** Nesting of flow collections (`[[[…]]]`) and indentation, checked before parsing: the parser recurses on both. */
export const MAX_FLOW_DEPTH = 64;
export const MAX_INDENT = 256;
/** Aliases and merge keys followed while looking for references in one file. */
export const MAX_ALIAS_STEPS = 5_000;
/** References in one file. */
export const MAX_REFERENCES = 1_000;
