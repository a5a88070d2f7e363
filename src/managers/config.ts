// The `managers` section of the repository config: which file kinds are scanned, and where. A pure schema fragment
// for the config file (src/github/config.ts) and its normalized form.
//
//   managers:
//     gitlab-ci: false                   # off
//     kubernetes:
//       paths: ["ops/**/*.yaml"]         # more globs, on top of the defaults
//       defaultPaths: false              # only the globs in `paths`

import { z } from "zod";
import { globProblem } from "./glob.js";
import { MANAGER_IDS, type ManagerId } from "./types.js";

/** Bounds on what a repository may configure. */
export const MAX_MANAGER_PATHS = 50;

export interface ManagerSettings {
  enabled: boolean;
  /** Globs claimed in addition to (or, with `defaultPaths: false`, instead of) the manager's defaults. */
  paths: string[];
  defaultPaths: boolean;
}

export type ManagersConfig = Record<ManagerId, ManagerSettings>;

const ENTRY_MESSAGE = "must be true, false, or a map with enabled, paths and defaultPaths";

const glob = z
  .string()
  .min(1, "must not be empty")
  .superRefine((value, ctx) => {
    const problem = globProblem(value);
    if (problem !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  });

const entry = z.preprocess(
  (value) => (typeof value === "boolean" ? { enabled: value } : value),
  z
    .object(
      {
        enabled: z.boolean().default(true),
        paths: z.array(glob).max(MAX_MANAGER_PATHS, `at most ${MAX_MANAGER_PATHS} globs`).default([]),
        defaultPaths: z.boolean().default(true),
      },
      { errorMap: (issue, ctx) => ({ message: issue.code === "invalid_type" ? ENTRY_MESSAGE : ctx.defaultError }) },
    )
    .strict(),
);

/**
 * The schema of the `managers` key: one optional entry per manager id, nothing else.
 *
 * @example
 * managersSchema.parse({ "gitlab-ci": false }) // { "gitlab-ci": { enabled: false, paths: [], defaultPaths: true } }
 */
export const managersSchema = z
  .object(Object.fromEntries(MANAGER_IDS.map((id) => [id, entry.optional()])) as Record<ManagerId, z.ZodOptional<typeof entry>>)
  .strict()
  .default({});

export type ManagersInput = z.input<typeof managersSchema>;

/** Every manager on, at its default paths. */
export const DEFAULT_MANAGERS: ManagersConfig = Object.fromEntries(
  MANAGER_IDS.map((id): [ManagerId, ManagerSettings] => [id, { enabled: true, paths: [], defaultPaths: true }]),
) as unknown as ManagersConfig;

/**
 * The schema's output with every manager present (the defaults where the file says nothing).
 *
 * @example
 * normalizeManagers(managersSchema.parse({ kubernetes: { paths: ["ops/*.yaml"] } })).kubernetes.paths // ["ops/*.yaml"]
 */
export function normalizeManagers(parsed: z.output<typeof managersSchema>): ManagersConfig {
  const out = structuredClone(DEFAULT_MANAGERS);
  for (const id of MANAGER_IDS) {
    const settings = parsed[id] as ManagerSettings | undefined;
    if (settings) out[id] = { enabled: settings.enabled, paths: [...settings.paths], defaultPaths: settings.defaultPaths };
  }
  return out;
}
