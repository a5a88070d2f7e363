// The pipeline's middle, shared by the CLI and the app: scanned files → registry answers → plan.

import { forEachBounded } from "./bounded.js";
import { scanDockerfile, ScanError, type Scanner } from "./dockerfile/scan.js";
import { plan, resolveRequests, type Plan, type PlanOptions, type ReferenceLimits, type ScannedFile } from "./plan.js";
import { imageName } from "./reference.js";
import { RegistryError, timeoutOf, type Resolution, type Resolver } from "./registry/types.js";

export type Resolutions = Map<string, Resolution | Error>;

/**
 * One file's scan: its references, or the reason it could not be scanned (a ScanError becomes the file's error;
 * anything else is a bug and is thrown).
 *
 * @example scanFile("Dockerfile", Buffer.from("FROM alpine:3.20\n")).references.length // 1
 */
export function scanFile(path: string, content: Uint8Array, scan: Scanner = scanDockerfile): ScannedFile {
  try {
    return { path, references: scan(content) };
  } catch (error) {
    if (!(error instanceof ScanError)) throw error;
    return { path, references: [], error: `could not be scanned: ${error.message}` };
  }
}

/**
 * Resolutions in flight at once for one call: as many as the registry client's default limit over all hosts, so a
 * single scan can use all of it; more would only wait inside the client.
 */
export const RESOLVE_CONCURRENCY = 32;

export interface ResolveFilesOptions {
  /** The deadline of the whole stage (a repository scan's): when it aborts, what is left fails with TIMEOUT. */
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Resolutions in flight at once (default RESOLVE_CONCURRENCY). */
  concurrency?: number;
  /** Caps on references per file and per repository (default REFERENCE_LIMITS); the plan must use the same. */
  limits?: ReferenceLimits;
}

/**
 * Ask the registry each distinct question once, a bounded number at a time; failures become values, never "up to
 * date".
 *
 * @example
 * const resolutions = await resolveFiles(files, client, { signal: scanDeadline.signal });
 */
export async function resolveFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  options: ResolveFilesOptions = {},
): Promise<Resolutions> {
  const requests = resolveRequests(files, options.limits);
  const out: Resolutions = new Map();
  let done = 0;
  await forEachBounded(requests, options.concurrency ?? RESOLVE_CONCURRENCY, async (request) => {
    const ask = { ...request.options, ...(options.signal ? { signal: options.signal } : {}) };
    try {
      out.set(request.key, await resolver.resolve(request.reference, ask));
    } catch (error) {
      const what = `${imageName(request.reference)}:${request.reference.tag}`;
      out.set(request.key, error instanceof RegistryError ? error : (timeoutOf(what, error) ?? asError(error)));
    }
    options.onProgress?.(++done, requests.length);
  });
  return out;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Scan results → plan, resolving what the plan needs. */
export async function planFiles(
  files: readonly ScannedFile[],
  resolver: Resolver,
  options: PlanOptions,
  resolveOptions: ResolveFilesOptions = {},
): Promise<Plan> {
  const limits = resolveOptions.limits ?? options.limits;
  const resolutions = await resolveFiles(files, resolver, { ...resolveOptions, ...(limits ? { limits } : {}) });
  return plan(files, resolutions, { ...options, ...(limits ? { limits } : {}) });
}
