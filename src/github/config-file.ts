// One config file of another repository of the same owner, on its default branch: the organization's defaults in
// its `.github` repository, or a base that `_extends` names. One GraphQL query (plus one REST read only when the
// file's text is not byte-exact UTF-8).

import type { Octokit } from "./files.js";
import { BLOB_FIELDS, blobBytes, GitHubQueryError, query, type BlobNode } from "./graphql.js";

/** The config-file query. Variables: `owner`, `name`, `expression` (`HEAD:<path>`). */
export const CONFIG_FILE_QUERY = `query DigestPinConfigFile($owner: String!, $name: String!, $expression: String!) {
  repository(owner: $owner, name: $name) {
    object(expression: $expression) {
      ${BLOB_FIELDS}
    }
  }
}`;

/**
 * The file's text, or null when the repository or the file does not exist or the installation cannot see it (GitHub
 * answers NOT_FOUND for both: the app must be installed on the `.github` repository to read the defaults there).
 *
 * @example await fetchConfigFile(octokit, "acme", ".github", ".github/digest-pin.yml") // "labels: [deps]\n" or null
 */
export async function fetchConfigFile(octokit: Octokit, owner: string, name: string, path: string): Promise<string | null> {
  let answer: { repository: { object: BlobNode | null } | null };
  try {
    answer = await query(octokit, "DigestPinConfigFile", CONFIG_FILE_QUERY, { owner, name, expression: `HEAD:${path}` });
  } catch (error) {
    if (error instanceof GitHubQueryError && error.notFound) return null;
    throw error;
  }
  const node = answer?.repository?.object;
  if (!node?.oid) return null;
  return (await blobBytes(octokit, owner, name, { ...node, oid: node.oid })).toString("utf8");
}
