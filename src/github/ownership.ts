// Whether the bot branch's head is a commit the app made, decided from what GitHub reports about the commit, never
// from text people can edit (a pull request body's marker names a commit too, but anyone with write access can change
// that, and push whatever they like to the branch).

import type { BotBranchCommit } from "./graphql.js";

/** The app's bot user, `<slug>[bot]`, with the account id GitHub gave it. */
export interface BotAccount {
  login: string;
  id: number;
}

/**
 * The email GitHub puts on the commits of an account, as `<id>+<login>` at `users.noreply.<host>`: the id makes it
 * that account's alone (GitHub attributes commits to accounts by it).
 *
 * @example botEmailLocalPart({ login: "digest-pin[bot]", id: 41898282 }) // "41898282+digest-pin[bot]"
 */
export function botEmailLocalPart(bot: BotAccount): string {
  return `${bot.id}+${bot.login}`.toLowerCase();
}

function isBotEmail(email: string | null, bot: BotAccount): boolean {
  if (email === null) return false;
  const at = email.lastIndexOf("@");
  if (at === -1) return false;
  // github.com: users.noreply.github.com; GitHub Enterprise Server: users.noreply.<its host>.
  return email.slice(0, at).toLowerCase() === botEmailLocalPart(bot) && email.slice(at + 1).toLowerCase().startsWith("users.noreply.");
}

/**
 * The head is the app's when GitHub says so: its signature is verified (GitHub signs a Git data API commit made with
 * the app's installation token itself, and only when the request sets no author, committer or signature: author and
 * committer are then the app's bot account), its author and committer are the bot account, and it is one commit on
 * top of a commit of the base branch. That parent is the base head the app built on, or an older base commit once the
 * base has moved on since (a pull request stays current while the files it rewrites do not change). A commit the app
 * made for another branch, or any commit on top of the app's, is not.
 *
 * @example isOwnHead(snapshot.botBranchCommit, { login: "digest-pin[bot]", id: 41898282 })
 */
export function isOwnHead(commit: BotBranchCommit | null, bot: BotAccount): boolean {
  if (commit === null || !commit.verified) return false;
  if (!isBotEmail(commit.authorEmail, bot) || !isBotEmail(commit.committerEmail, bot)) return false;
  return commit.parentCount === 1 && commit.aheadOfBase === 1;
}

/**
 * The head is already part of the base branch (a pull request merged with a merge commit, its branch kept): moving the
 * branch loses no commit, whoever made it.
 *
 * @example isInBase(snapshot.botBranchCommit) // true once the bot branch was merged with a merge commit
 */
export function isInBase(commit: BotBranchCommit | null): boolean {
  return commit !== null && commit.aheadOfBase === 0;
}
