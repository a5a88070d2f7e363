// An in-memory git object database with real git object ids (SHA-1 over git's loose-object encoding).
// Used by the fake GitHub server; no I/O, no packfiles, no compression.

import { createHash } from "node:crypto";

export type TreeMode = "100644" | "100755" | "040000" | "120000" | "160000";
export const TREE_MODES: readonly TreeMode[] = ["100644", "100755", "040000", "120000", "160000"];
export const EMPTY_TREE_SHA = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

export interface TreeEntry {
  name: string;
  mode: TreeMode;
  sha: string;
}

export interface GitIdentity {
  name: string;
  email: string;
  /** Unix seconds. */
  time: number;
  /** Git offset text, e.g. `+0000`, `-0530`. */
  tz: string;
}

export interface BlobObject {
  type: "blob";
  sha: string;
  data: Buffer;
}

export interface TreeObject {
  type: "tree";
  sha: string;
  /** In git order. */
  entries: readonly TreeEntry[];
}

export interface CommitObject {
  type: "commit";
  sha: string;
  tree: string;
  parents: readonly string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
  /** 1 + max(parent generation); used to prune ancestry walks. */
  generation: number;
}

export type GitObject = BlobObject | TreeObject | CommitObject;

/** A flattened file (anything that is not a directory) in a tree. */
export interface FileEntry {
  mode: TreeMode;
  sha: string;
}

/** One row of a recursive listing, pre-order like `git ls-tree -r -t`. */
export interface ListedEntry {
  path: string;
  mode: TreeMode;
  type: "blob" | "tree" | "commit";
  sha: string;
  size?: number;
}

export class GitError extends Error {}

export function typeForMode(mode: TreeMode): "blob" | "tree" | "commit" {
  return mode === "040000" ? "tree" : mode === "160000" ? "commit" : "blob";
}

export function hashObject(type: "blob" | "tree" | "commit", body: Buffer): string {
  const hash = createHash("sha1");
  hash.update(`${type} ${body.length}\0`);
  hash.update(body);
  return hash.digest("hex");
}

function sortKey(entry: TreeEntry): Buffer {
  return Buffer.from(entry.mode === "040000" ? `${entry.name}/` : entry.name, "utf8");
}

/** Git's tree order: byte order of names, directories compared as `name/`. */
export function sortTreeEntries(entries: TreeEntry[]): TreeEntry[] {
  const keyed = entries.map((entry) => ({ entry, key: sortKey(entry) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.entry);
}

export function validateEntryName(name: string): void {
  if (name === "" || name === "." || name === ".." || name.includes("/") || name.includes("\0")) {
    throw new GitError(`invalid tree entry name ${JSON.stringify(name)}`);
  }
  if (name.toLowerCase() === ".git") throw new GitError("tree entry name .git is not allowed");
}

export function encodeTree(entries: readonly TreeEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const mode = e.mode === "040000" ? "40000" : e.mode;
    parts.push(Buffer.from(`${mode} ${e.name}\0`, "utf8"), Buffer.from(e.sha, "hex"));
  }
  return Buffer.concat(parts);
}

export function formatIdentity(id: GitIdentity): string {
  return `${id.name} <${id.email}> ${id.time} ${id.tz}`;
}

export function encodeCommit(c: {
  tree: string;
  parents: readonly string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
}): Buffer {
  let text = `tree ${c.tree}\n`;
  for (const p of c.parents) text += `parent ${p}\n`;
  text += `author ${formatIdentity(c.author)}\n`;
  text += `committer ${formatIdentity(c.committer)}\n`;
  text += `\n${c.message}`;
  return Buffer.from(text, "utf8");
}

/** ISO 8601 → git time + tz; keeps the offset written in the string (`Z` → `+0000`). */
export function identityTime(iso: string | undefined, nowMs: number): { time: number; tz: string } {
  if (iso === undefined) return { time: Math.floor(nowMs / 1000), tz: "+0000" };
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new GitError(`invalid date ${JSON.stringify(iso)}`);
  const m = /([+-])(\d\d):?(\d\d)$/.exec(iso);
  const tz = m ? `${m[1]}${m[2]}${m[3]}` : "+0000";
  return { time: Math.floor(ms / 1000), tz };
}

/** Git time → ISO 8601 UTC without milliseconds, as GitHub prints it. */
export function isoFromGit(id: GitIdentity): string {
  return new Date(id.time * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Slot>;
}
type Slot = DirNode | { kind: "entry"; mode: TreeMode; sha: string };

/** A change for {@link ObjectStore.buildTree}: set `path` to an entry, or delete it (`null`). */
export interface TreeChange {
  path: string;
  entry: FileEntry | null;
}

export class ObjectStore {
  private readonly objects = new Map<string, GitObject>();

  get size(): number {
    return this.objects.size;
  }

  get(sha: string): GitObject | undefined {
    return this.objects.get(sha);
  }

  has(sha: string): boolean {
    return this.objects.has(sha);
  }

  blob(sha: string): BlobObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "blob" ? o : undefined;
  }

  tree(sha: string): TreeObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "tree" ? o : undefined;
  }

  commit(sha: string): CommitObject | undefined {
    const o = this.objects.get(sha);
    return o?.type === "commit" ? o : undefined;
  }

  /** Objects whose id starts with `prefix` (short-sha lookups; linear, rarely used). */
  findByPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (const sha of this.objects.keys()) if (sha.startsWith(prefix)) out.push(sha);
    return out;
  }

  writeBlob(data: Buffer): string {
    const sha = hashObject("blob", data);
    if (!this.objects.has(sha)) this.objects.set(sha, { type: "blob", sha, data: Buffer.from(data) });
    return sha;
  }

  writeTree(entries: TreeEntry[]): string {
    const seen = new Set<string>();
    for (const e of entries) {
      validateEntryName(e.name);
      if (!TREE_MODES.includes(e.mode)) throw new GitError(`invalid mode ${e.mode}`);
      if (!/^[0-9a-f]{40}$/.test(e.sha)) throw new GitError(`invalid sha ${e.sha}`);
      if (seen.has(e.name)) throw new GitError(`duplicate tree entry ${e.name}`);
      seen.add(e.name);
    }
    const sorted = sortTreeEntries(entries.map((e) => ({ name: e.name, mode: e.mode, sha: e.sha })));
    const sha = hashObject("tree", encodeTree(sorted));
    if (!this.objects.has(sha)) this.objects.set(sha, { type: "tree", sha, entries: sorted });
    return sha;
  }

  writeCommit(c: {
    tree: string;
    parents: readonly string[];
    author: GitIdentity;
    committer: GitIdentity;
    message: string;
  }): string {
    if (!this.tree(c.tree)) throw new GitError(`tree ${c.tree} does not exist`);
    let generation = 1;
    for (const p of c.parents) {
      const parent = this.commit(p);
      if (!parent) throw new GitError(`parent ${p} does not exist or is not a commit`);
      generation = Math.max(generation, parent.generation + 1);
    }
    const sha = hashObject("commit", encodeCommit(c));
    if (!this.objects.has(sha)) {
      this.objects.set(sha, {
        type: "commit",
        sha,
        tree: c.tree,
        parents: [...c.parents],
        author: { ...c.author },
        committer: { ...c.committer },
        message: c.message,
        generation,
      });
    }
    return sha;
  }

  /** The entry at `path` (`a/b/c`) under a tree, or undefined. */
  lookup(treeSha: string, path: string): FileEntry | undefined {
    const parts = path.split("/").filter((p) => p !== "");
    if (parts.length === 0) return { mode: "040000", sha: treeSha };
    let current = treeSha;
    for (let i = 0; i < parts.length; i++) {
      const tree = this.tree(current);
      if (!tree) return undefined;
      const entry = tree.entries.find((e) => e.name === parts[i]);
      if (!entry) return undefined;
      if (i === parts.length - 1) return { mode: entry.mode, sha: entry.sha };
      if (entry.mode !== "040000") return undefined;
      current = entry.sha;
    }
    return undefined;
  }

  /** All non-directory entries under a tree, keyed by full path. */
  flatten(treeSha: string, out = new Map<string, FileEntry>(), prefix = ""): Map<string, FileEntry> {
    const tree = this.tree(treeSha);
    if (!tree) throw new GitError(`tree ${treeSha} does not exist`);
    for (const e of tree.entries) {
      const path = prefix + e.name;
      if (e.mode === "040000") this.flatten(e.sha, out, `${path}/`);
      else out.set(path, { mode: e.mode, sha: e.sha });
    }
    return out;
  }

  /**
   * Recursive listing in git's pre-order (a directory, then its contents). Stops after `limit`
   * rows and reports whether more existed.
   */
  listRecursive(treeSha: string, limit = Infinity): { entries: ListedEntry[]; truncated: boolean } {
    const entries: ListedEntry[] = [];
    let truncated = false;
    const walk = (sha: string, prefix: string): boolean => {
      const tree = this.tree(sha);
      if (!tree) throw new GitError(`tree ${sha} does not exist`);
      for (const e of tree.entries) {
        if (entries.length >= limit) {
          truncated = true;
          return false;
        }
        entries.push(this.listed(prefix + e.name, e));
        if (e.mode === "040000" && !walk(e.sha, `${prefix}${e.name}/`)) return false;
      }
      return true;
    };
    walk(treeSha, "");
    return { entries, truncated };
  }

  listed(path: string, e: { mode: TreeMode; sha: string }): ListedEntry {
    const type = typeForMode(e.mode);
    const row: ListedEntry = { path, mode: e.mode, type, sha: e.sha };
    if (type === "blob") row.size = this.blob(e.sha)?.data.length ?? 0;
    return row;
  }

  /**
   * A new tree: `base` (or empty) with `changes` applied in order. Nested paths create or descend
   * into subtrees; deleting leaves no empty directories behind; only touched subtrees are rewritten.
   */
  buildTree(base: string | undefined, changes: readonly TreeChange[]): string {
    const load = (sha: string): DirNode => {
      const tree = this.tree(sha);
      if (!tree) throw new GitError(`tree ${sha} does not exist`);
      const entries = new Map<string, Slot>();
      for (const e of tree.entries) entries.set(e.name, { kind: "entry", mode: e.mode, sha: e.sha });
      return { kind: "dir", entries };
    };
    const root: DirNode = base === undefined ? { kind: "dir", entries: new Map() } : load(base);
    for (const change of changes) {
      const parts = change.path.split("/");
      for (const p of parts) validateEntryName(p);
      let node = root;
      let missing = false;
      for (let i = 0; i < parts.length - 1; i++) {
        const name = parts[i] as string;
        const slot = node.entries.get(name);
        let next: DirNode;
        if (slot?.kind === "dir") next = slot;
        else if (slot?.kind === "entry" && slot.mode === "040000") next = load(slot.sha);
        else if (change.entry === null) {
          missing = true;
          break;
        } else next = { kind: "dir", entries: new Map() };
        node.entries.set(name, next);
        node = next;
      }
      if (missing) continue;
      const leaf = parts[parts.length - 1] as string;
      if (change.entry === null) node.entries.delete(leaf);
      else node.entries.set(leaf, { kind: "entry", mode: change.entry.mode, sha: change.entry.sha });
    }
    const write = (node: DirNode): string | null => {
      const entries: TreeEntry[] = [];
      for (const [name, slot] of node.entries) {
        if (slot.kind === "entry") entries.push({ name, mode: slot.mode, sha: slot.sha });
        else {
          const sha = write(slot);
          if (sha !== null) entries.push({ name, mode: "040000", sha });
        }
      }
      return entries.length === 0 ? null : this.writeTree(entries);
    };
    return write(root) ?? this.writeTree([]);
  }

  /** Whether `ancestor` is reachable from `descendant` (a commit is its own ancestor). */
  isAncestor(ancestor: string, descendant: string): boolean {
    const target = this.commit(ancestor);
    if (!target) return false;
    const seen = new Set<string>();
    const stack = [descendant];
    while (stack.length > 0) {
      const sha = stack.pop() as string;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      const c = this.commit(sha);
      if (!c || c.generation <= target.generation) continue;
      stack.push(...c.parents);
    }
    return false;
  }

  /** Every commit reachable from `start`, itself included. */
  ancestors(start: string): Set<string> {
    const seen = new Set<string>();
    const stack = [start];
    while (stack.length > 0) {
      const sha = stack.pop() as string;
      if (seen.has(sha)) continue;
      seen.add(sha);
      stack.push(...(this.commit(sha)?.parents ?? []));
    }
    return seen;
  }

  /** A best common ancestor of two commits (highest generation among common ancestors). */
  mergeBase(a: string, b: string): string | undefined {
    const ancestorsOfA = this.ancestors(a);
    let best: CommitObject | undefined;
    const seen = new Set<string>();
    const queue = [b];
    while (queue.length > 0) {
      const sha = queue.pop() as string;
      if (seen.has(sha)) continue;
      seen.add(sha);
      const c = this.commit(sha);
      if (!c) continue;
      if (ancestorsOfA.has(sha)) {
        if (!best || c.generation > best.generation) best = c;
        continue;
      }
      queue.push(...c.parents);
    }
    return best?.sha;
  }

  /**
   * A file-level three-way merge of trees: a path changed on one side only takes that side; the same
   * change on both sides is fine; different changes to one path are conflicts.
   */
  mergeTrees(base: string | undefined, ours: string, theirs: string): { tree: string } | { conflicts: string[] } {
    const b = base === undefined ? new Map<string, FileEntry>() : this.flatten(base);
    const o = this.flatten(ours);
    const t = this.flatten(theirs);
    const same = (x: FileEntry | undefined, y: FileEntry | undefined): boolean =>
      x === undefined ? y === undefined : y !== undefined && x.sha === y.sha && x.mode === y.mode;
    const conflicts: string[] = [];
    const changes: TreeChange[] = [];
    const paths = new Set([...b.keys(), ...o.keys(), ...t.keys()]);
    for (const path of [...paths].sort()) {
      const [bb, oo, tt] = [b.get(path), o.get(path), t.get(path)];
      let result: FileEntry | undefined;
      if (same(oo, tt) || same(bb, tt)) result = oo;
      else if (same(bb, oo)) result = tt;
      else {
        conflicts.push(path);
        continue;
      }
      if (result) changes.push({ path, entry: result });
    }
    if (conflicts.length > 0) return { conflicts };
    return { tree: this.buildTree(undefined, changes) };
  }
}
