// The pipeline's middle, shared by the CLI and the app: scanned files → registry answers → plan.

import { scanDockerfile, ScanError, type Scanner } from "./dockerfile/scan.js";
import { ignoredLines } from "./ignore-comment.js";
import { plan, resolveRequests, type Plan, type PlanOptions, type ScannedFile } from "./plan.js";
import type { Resolution, Resolver } from "./registry/types.js";

export type Resolutions = Map<string, Resolution | Error>;

/**
 * One file's scan: its references, or the reason it could not be scanned (a ScanError becomes the file's error;
 * anything else is a bug and is thrown).
 *
 * @example scanFile("Dockerfile", Buffer.from("FROM alpine:3.20\n")).references.length // 1
 */
export function scanFile(path: string, content: Uint8Array, scan: Scanner = scanDockerfile): ScannedFile {
  try {
    const ignored = ignoredLines(content);
    return ignored.length > 0 ? { path, references: scan(content), ignoredLines: ignored } : { path, references: scan(content) };
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    return { path, references: [], error: `could not be scanned: ${error.message}` };
  }
}

/** Ask the registry each distinct question once; failures become values, never "up to date". */
export async function resolveFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  onProgress?: (done: number, total: number) => void,
): Promise<Resolutions> {
  const requests = resolveRequests(files);
  const out: Resolutions = new Map();
  let done = 0;
  await Promise.all(
    requests.map(async (request) => {
      try {
        out.set(request.key, await resolver.resolve(request.reference, request.options));
      } catch (error) {
        out.set(request.key, error instanceof Error ? error : new Error(String(error)));
      }
      onProgress?.(++done, requests.length);
    }),
  );
  return out;
}

/** Scan results → plan, resolving what the plan needs. */
export async function planFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  options: PlanOptions,
  onProgress?: (done: number, total: number) => void,
): Promise<Plan> {
  return plan(files, await resolveFiles(files, resolver, onProgress), options);
}
