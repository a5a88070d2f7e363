// Config bases (the organization's `.github` file, `_extends` targets) read once per installation and run: a drift
// check, or the jobs of one webhook delivery, share one read however many repositories they scan. Entries of runs
// older than the run's memo lifetime are dropped; a failed read is not remembered.

import type { Octokit } from "../github/files.js";
import { fetchConfigFile } from "../github/config-file.js";
import type { ConfigFileReader } from "./config-layers.js";

export class RunConfigFiles {
  private readonly runs = new Map<string, { files: Map<string, Promise<string | null>>; at: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly read: typeof fetchConfigFile = fetchConfigFile,
  ) {}

  /**
   * The reader for one run (`<installation>:<check or delivery id>`), through `octokit` (that installation's client).
   *
   * @example services.readConfigFile = files.readerFor(`${job.installationId}:${job.checkId}`, octokit)
   */
  readerFor(run: string, octokit: Octokit): ConfigFileReader {
    return (owner, repo, path) => {
      const now = Date.now();
      for (const [id, entry] of this.runs) if (now - entry.at > this.ttlMs) this.runs.delete(id);
      let entry = this.runs.get(run);
      if (!entry) this.runs.set(run, (entry = { files: new Map(), at: now }));
      const key = `${owner}/${repo}:${path}`.toLowerCase();
      let text = entry.files.get(key);
      if (!text) {
        const files = entry.files;
        text = this.read(octokit, owner, repo, path);
        files.set(key, text);
        // A failure may be passing: the next repository of the run asks again.
        text.catch(() => files.delete(key));
      }
      return text;
    };
  }
}
