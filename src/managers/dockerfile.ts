// Dockerfiles and Containerfiles: today's scanner (src/dockerfile/scan.ts), with the build arguments the rest of the
// repository passes to this Dockerfile.

import { isDockerfilePath } from "../dockerfile/files.js";
import { scanDockerfile } from "../dockerfile/scan.js";
import { buildArgsFor } from "./build-args.js";
import { capReferences } from "./cap.js";
import { MAX_FILE_BYTES } from "./limits.js";
import { skippedFile } from "./source.js";
import type { Manager } from "./types.js";

/** The Dockerfile manager. */
export const dockerfileManager: Manager = {
  id: "dockerfile",
  title: "Dockerfiles",
  defaultPaths: [
    "**/Dockerfile",
    "**/Containerfile",
    "**/*.Dockerfile",
    "**/*.dockerfile",
    "**/Dockerfile.*",
    "**/Containerfile.*",
  ],
  claims: isDockerfilePath,
  extract: (content, context) => {
    if (content.length > MAX_FILE_BYTES) return skippedFile("too-large", `larger than 1 MiB (${content.length} bytes)`);
    const buildArgs = buildArgsFor(context.path, context.buildArgs ?? []);
    return capReferences({ references: scanDockerfile(content, buildArgs.size > 0 ? { buildArgs } : {}) });
  },
};
