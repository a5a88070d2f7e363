// One issue per repository explains a broken `.github/digest-pin.yml`; it is kept current and closed once fixed.

import type { Octokit } from "./files.js";
import type { RepoRef } from "./pull-request.js";
import { CONFIG_PATH } from "./config.js";
import { codeBlock } from "./markdown.js";
import { postedError } from "./posted.js";

export const CONFIG_ISSUE_TITLE = "digest-pin: configuration error";

function issueBody(error: string): string {
  return [
    `digest-pin could not read \`${CONFIG_PATH}\`, so it is not scanning this repository until the file is fixed:`,
    "",
    // The error quotes the file (unknown keys, values): repository content.
    codeBlock(postedError(error)),
    "",
    "Valid keys: `enabled`, `pinUnpinned`, `ignorePaths`, `ignoreImages`, `labels`, `reviewers`, `assignees`, `minimumAge`.",
    "This issue closes by itself once the configuration is valid.",
  ].join("\n");
}

async function openConfigIssues(octokit: Octokit, { owner, repo }: RepoRef, botLogin: string) {
  const issues = await octokit.paginate(octokit.rest.issues.listForRepo, {
    owner,
    repo,
    state: "open",
    creator: botLogin,
    per_page: 100,
  });
  return issues.filter((i) => i.title === CONFIG_ISSUE_TITLE && !i.pull_request);
}

/** Open or update the issue for a config error. Returns its number. */
export async function reportConfigError(octokit: Octokit, ref: RepoRef, botLogin: string, error: string) {
  const body = issueBody(error);
  const [existing] = await openConfigIssues(octokit, ref, botLogin);
  if (existing) {
    if (existing.body !== body) {
      await octokit.rest.issues.update({ ...ref, issue_number: existing.number, body });
    }
    return existing.number;
  }
  const { data } = await octokit.rest.issues.create({ ...ref, title: CONFIG_ISSUE_TITLE, body });
  return data.number;
}

/** Close the config-error issue, if any, now that the config is valid. */
export async function resolveConfigError(octokit: Octokit, ref: RepoRef, botLogin: string) {
  for (const issue of await openConfigIssues(octokit, ref, botLogin)) {
    await octokit.rest.issues.createComment({
      ...ref,
      issue_number: issue.number,
      body: `\`${CONFIG_PATH}\` is valid now; scanning resumes. Closing.`,
    });
    await octokit.rest.issues.update({ ...ref, issue_number: issue.number, state: "closed" });
  }
}
