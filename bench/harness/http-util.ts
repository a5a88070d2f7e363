// Small HTTP helpers for the fake GitHub server: errors, routing templates, pagination, ETags.

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const DOCS_URL = "https://docs.github.com/rest";

/** Thrown by handlers; becomes a GitHub-shaped JSON error response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function notFound(): HttpError {
  return new HttpError(404, "Not Found");
}

/** 422 "Validation Failed" with GitHub's `errors` array. */
export function validationFailed(errors: Record<string, unknown>[]): HttpError {
  return new HttpError(422, "Validation Failed", { errors });
}

export function errorBody(status: number, message: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { message, ...extra, documentation_url: DOCS_URL, status: String(status) };
}

/**
 * A route template like `GET /repos/{owner}/{repo}/git/ref/{ref+}`: `{x}` matches one segment,
 * `{x+}` one or more segments, `{x#}` digits. Returns the method, a regex and the parameter names.
 */
export function compileRoute(template: string): { method: string; name: string; regex: RegExp; params: string[] } {
  const space = template.indexOf(" ");
  const method = template.slice(0, space);
  const path = template.slice(space + 1);
  const params: string[] = [];
  const pattern = path.replace(/[.*?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)([+#]?)\}/g, (_m, param: string, kind: string) => {
    params.push(param);
    return kind === "+" ? "(.+)" : kind === "#" ? "(\\d+)" : "([^/]+)";
  });
  const name = `${method} ${path.replace(/\{(\w+)[+#]?\}/g, "{$1}")}`;
  return { method, name, regex: new RegExp(`^${pattern}$`), params };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export function weakEtag(parts: (string | Buffer)[]): string {
  const hash = createHash("sha1");
  for (const p of parts) hash.update(p);
  return `W/"${hash.digest("hex")}"`;
}

/** Whether an `If-None-Match` header value matches an ETag (weak comparison, lists, `*`). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const strip = (t: string): string => t.trim().replace(/^W\//, "");
  const target = strip(etag);
  return ifNoneMatch.split(",").some((t) => t.trim() === "*" || strip(t) === target);
}

export interface PageParams {
  perPage: number;
  page: number;
}

export function pageParams(query: URLSearchParams): PageParams {
  const perPageRaw = Number.parseInt(query.get("per_page") ?? "", 10);
  const pageRaw = Number.parseInt(query.get("page") ?? "", 10);
  return {
    perPage: Number.isFinite(perPageRaw) && perPageRaw > 0 ? Math.min(perPageRaw, 100) : 30,
    page: Number.isFinite(pageRaw) && pageRaw > 0 ? pageRaw : 1,
  };
}

/**
 * One page of `items` plus GitHub's `Link` header (first/prev/next/last as they apply), built from
 * `base` (`http://host[/api/v3]/path`) and the request's query with `page` replaced.
 */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
  base: string,
): { page: T[]; link: string | undefined } {
  const { perPage, page } = pageParams(query);
  const start = (page - 1) * perPage;
  const slice = items.slice(start, start + perPage);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const url = (p: number): string => {
    const q = new URLSearchParams(query);
    q.set("page", String(p));
    return `<${base}?${q.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${url(Math.min(page - 1, last))}; rel="prev"`);
  if (page < last) links.push(`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`);
  if (page > 1) links.push(`${url(1)}; rel="first"`);
  return { page: slice, link: links.length > 0 ? links.join(", ") : undefined };
}

/** Base64 wrapped at 60 columns with a trailing newline, as GitHub returns blob and file content. */
export function wrappedBase64(data: Buffer): string {
  const b64 = data.toString("base64");
  if (b64 === "") return "";
  let out = "";
  for (let i = 0; i < b64.length; i += 60) out += `${b64.slice(i, i + 60)}\n`;
  return out;
}

export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}
