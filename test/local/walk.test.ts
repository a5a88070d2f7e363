import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isDockerfilePath } from "../../src/dockerfile/files.js";
import { findDockerfiles, WalkError } from "../../src/local/walk.js";

let base: string;
let root: string;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), "digest-pin-walk-"));
  root = join(base, "repo");
  await mkdir(root);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** Create files (with parents) below `at`. */
async function files(at: string, ...paths: string[]): Promise<void> {
  for (const path of paths) {
    await mkdir(dirname(join(at, path)), { recursive: true });
    await writeFile(join(at, path), "FROM alpine\n");
  }
}

async function link(target: string, path: string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await symlink(target, join(root, path));
}

describe("isDockerfilePath", () => {
  it.each([
    "Dockerfile",
    "Containerfile",
    "app.Dockerfile",
    "app.dockerfile",
    "build.test.Dockerfile",
    "Dockerfile.dev",
    "Dockerfile.prod.arm64",
    "Containerfile.prod",
    "services/api/Dockerfile",
    "a/b/c/app.dockerfile",
    "services\\api\\Dockerfile.dev",
  ])("scans %s", (path) => {
    expect(isDockerfilePath(path)).toBe(true);
  });

  it.each([
    "dockerfile",
    "DOCKERFILE",
    "containerfile",
    "dockerfile.txt",
    "Dockerfiles",
    "MyDockerfile",
    "Dockerfile.",
    ".Dockerfile",
    "app.DockerFile",
    "app.Containerfile",
    "Dockerfile/README.md",
    "Dockerfile.d/notes.txt",
    "docker-compose.yml",
    ".dockerignore",
    "",
  ])("does not scan %j", (path) => {
    expect(isDockerfilePath(path)).toBe(false);
  });

  it("judges the base name, not the directories", () => {
    expect(isDockerfilePath("Dockerfile/config.json")).toBe(false);
    expect(isDockerfilePath("x.dockerfile/readme")).toBe(false);
    expect(isDockerfilePath("docs\\Dockerfile")).toBe(true);
  });
});

describe("findDockerfiles", () => {
  it("finds all six name patterns in nested directories, sorted, with / separators", async () => {
    await files(
      root,
      "Dockerfile",
      "svc/api/Containerfile",
      "svc/api/app.Dockerfile",
      "svc/web/deep/er/web.dockerfile",
      "tools/Dockerfile.dev",
      "z/Containerfile.prod",
    );
    expect(await findDockerfiles(root)).toEqual([
      "Dockerfile",
      "svc/api/Containerfile",
      "svc/api/app.Dockerfile",
      "svc/web/deep/er/web.dockerfile",
      "tools/Dockerfile.dev",
      "z/Containerfile.prod",
    ]);
  });

  it("ignores files with other names, and directories named like Dockerfiles", async () => {
    await files(root, "dockerfile.txt", "README.md", "Dockerfiles", "docker/compose.yml", "Dockerfile/notes.txt");
    await mkdir(join(root, "empty.Dockerfile"));
    await mkdir(join(root, "Dockerfile.d"));
    expect(await findDockerfiles(root)).toEqual([]);
  });

  it("looks inside a directory named Dockerfile", async () => {
    await files(root, "Dockerfile/Dockerfile.base");
    expect(await findDockerfiles(root)).toEqual(["Dockerfile/Dockerfile.base"]);
  });

  it("skips .git and node_modules at any depth", async () => {
    await files(
      root,
      ".git/Dockerfile",
      "node_modules/pkg/Dockerfile",
      "packages/a/node_modules/b/Dockerfile",
      "packages/a/Dockerfile",
    );
    expect(await findDockerfiles(root)).toEqual(["packages/a/Dockerfile"]);
  });

  it("finds Dockerfiles in other dot directories", async () => {
    await files(root, ".devcontainer/Dockerfile", ".github/ci.Dockerfile");
    expect(await findDockerfiles(root)).toEqual([".devcontainer/Dockerfile", ".github/ci.Dockerfile"]);
  });

  it("gives paths relative to the directory however it is spelled", async () => {
    await files(root, "a/Dockerfile");
    expect(await findDockerfiles(`${root}/`)).toEqual(["a/Dockerfile"]);
    expect(await findDockerfiles(join(root, "a", ".."))).toEqual(["a/Dockerfile"]);
    await symlink(root, join(base, "repo-link"));
    expect(await findDockerfiles(join(base, "repo-link"))).toEqual(["a/Dockerfile"]);
  });

  describe("symbolic links", () => {
    it("follows a link to a file inside, judging the link's own name", async () => {
      await files(root, "docker/base.txt");
      await link("docker/base.txt", "Dockerfile");
      expect(await findDockerfiles(root)).toEqual(["Dockerfile"]);
    });

    it("follows a link to a directory inside that is not otherwise walked", async () => {
      await files(root, "node_modules/@acme/images/Dockerfile");
      await link("node_modules/@acme/images", "images");
      expect(await findDockerfiles(root)).toEqual(["images/Dockerfile"]);
    });

    it("does not skip a real directory because a link to it sorts first", async () => {
      await files(root, "sub/Dockerfile");
      await link("sub", "alias"); // sorts before "sub"
      await link("sub", "zlias"); // sorts after
      expect(await findDockerfiles(root)).toEqual(["sub/Dockerfile"]);
    });

    it("prefers a real path over a deeper link to the same directory", async () => {
      await files(root, "z/images/Dockerfile");
      await link("../z/images", "a/images");
      expect(await findDockerfiles(root)).toEqual(["z/images/Dockerfile"]);
    });

    it("lists a file once when links also name it, so pin never edits it twice", async () => {
      await files(root, "Dockerfile");
      await link("Dockerfile", "a.Dockerfile");
      await link("Dockerfile", "Dockerfile.link");
      await link(".", "again");
      expect(await findDockerfiles(root)).toEqual(["Dockerfile"]);
    });

    it("does not follow a link to a file outside the root", async () => {
      await files(base, "outside/Dockerfile");
      await link(join(base, "outside", "Dockerfile"), "Dockerfile");
      await link("../outside/Dockerfile", "rel.Dockerfile");
      expect(await findDockerfiles(root)).toEqual([]);
    });

    it("does not follow a link to a directory outside the root", async () => {
      await files(base, "outside/Dockerfile", "outside/nested/Containerfile");
      await link(join(base, "outside"), "ext");
      await link("../../outside", "deep/ext");
      expect(await findDockerfiles(root)).toEqual([]);
    });

    it("does not mistake a sibling whose name extends the root's for the inside", async () => {
      await files(base, "repo-other/Dockerfile");
      await link(join(base, "repo-other"), "sibling");
      await link(join(base, "repo-other", "Dockerfile"), "sibling.Dockerfile");
      expect(await findDockerfiles(root)).toEqual([]);
    });

    it("does not follow an inside link that leads outside through another link", async () => {
      await files(base, "outside/Dockerfile");
      await link(join(base, "outside"), "hop");
      await link("hop", "via");
      await link("hop/Dockerfile", "via.Dockerfile");
      expect(await findDockerfiles(root)).toEqual([]);
    });

    it("survives loops and dangling links", async () => {
      await files(root, "a/Dockerfile");
      await link(".", "self-dir");
      await link("..", "a/up");
      await link("../a", "a/b/back");
      await link("loop.Dockerfile", "loop.Dockerfile");
      await link("q", "p");
      await link("p", "q");
      await link("missing", "dangling.Dockerfile");
      await link("nowhere", "dangling-dir");
      expect(await findDockerfiles(root)).toEqual(["a/Dockerfile"]);
    });

    it("does not follow a link named like a skipped directory", async () => {
      await files(root, "real/Dockerfile");
      await link("real", "node_modules");
      await link("real", "nested/.git");
      expect(await findDockerfiles(root)).toEqual(["real/Dockerfile"]);
    });
  });

  describe("errors", () => {
    it("throws WalkError for a missing directory", async () => {
      const missing = join(base, "missing");
      await expect(findDockerfiles(missing)).rejects.toThrow(WalkError);
      await expect(findDockerfiles(missing)).rejects.toThrow(`${missing} does not exist or cannot be read`);
    });

    it("throws WalkError for a file", async () => {
      await files(root, "Dockerfile");
      const path = join(root, "Dockerfile");
      await expect(findDockerfiles(path)).rejects.toThrow(new WalkError(`${path} is not a directory`));
    });

    it("throws WalkError for a dangling link", async () => {
      await symlink(join(base, "gone"), join(base, "dangling"));
      await expect(findDockerfiles(join(base, "dangling"))).rejects.toBeInstanceOf(WalkError);
    });
  });
});
