import { describe, expect, it } from "vitest";
import {
  commitUrl,
  compareUrl,
  imageSource,
  LABEL_REVISION,
  LABEL_SOURCE,
  LABEL_VERSION,
  registryPage,
  sourceUrl,
} from "../../src/github/image-links.js";
import { link, safeHttpsUrl } from "../../src/github/markdown.js";
import { checkGfm, renderGfm } from "../helpers/gfm.js";

const hasGfm = checkGfm("rendering links with cmark-gfm");
const R1 = "0123456789abcdef0123456789abcdef01234567";
const R2 = "fedcba9876543210fedcba9876543210fedcba98";

describe("safeHttpsUrl", () => {
  it.each(["https://github.com/acme/app", "https://gitlab.example.org/a/b?x=1#y", "https://HUB.docker.com/_/python"])("accepts %s", (url) => {
    expect(safeHttpsUrl(url)).not.toBeNull();
  });

  it.each([
    ["javascript", "javascript:alert(1)"],
    ["plain http", "http://github.com/acme/app"],
    ["credentials", "https://user:secret@github.com/acme/app"],
    ["a user name alone", "https://token@github.com/acme/app"],
    ["an IP address", "https://10.0.0.1/x"],
    ["IPv6", "https://[::1]/x"],
    ["a single label host", "https://intranet/x"],
    ["localhost", "https://app.localhost/x"],
    ["control characters", "https://github.com/a\nb"],
    ["spaces", "https://github.com/a b"],
    ["data", "data:text/html,<script>alert(1)</script>"],
    ["not a URL", "github.com/acme/app"],
    ["too long", `https://github.com/${"a".repeat(3000)}`],
  ])("refuses %s", (_name, url) => {
    expect(safeHttpsUrl(url)).toBeNull();
  });
});

describe("link", () => {
  it("escapes the text and encodes what could end the link or a table cell", () => {
    const url = new URL("https://example.org/a(b)|c");
    expect(link("x] [y](https://evil.example/)", url)).toBe("[x\\] \\[y\\](https\\://evil.example/)](https://example.org/a%28b%29%7Cc)");
  });

  it.skipIf(!hasGfm)("renders as one link with the text as given", () => {
    const html = renderGfm(`| a |\n| --- |\n| ${link("x] @acme/admins", new URL("https://example.org/a(b)|c"))} |`);
    expect([...html.matchAll(/<a href="([^"]*)">/g)].map((m) => m[1])).toEqual(["https://example.org/a%28b%29%7Cc"]);
    expect(html).toContain("<td><a");
  });
});

describe("registryPage", () => {
  it.each([
    ["docker.io/library/python", "https://hub.docker.com/_/python"],
    ["docker.io/acme/app", "https://hub.docker.com/r/acme/app"],
    ["ghcr.io/acme/app", "https://ghcr.io/acme/app"],
    ["quay.io/prometheus/node-exporter", "https://quay.io/repository/prometheus/node-exporter"],
    ["mcr.microsoft.com/dotnet/sdk", "https://mcr.microsoft.com/artifact/mar/dotnet/sdk"],
    ["public.ecr.aws/nginx/nginx", "https://gallery.ecr.aws/nginx/nginx"],
  ])("%s → %s", (image, page) => {
    expect(registryPage(image)?.href).toBe(page);
  });

  it("has none for registries without a page, or names it cannot be sure of", () => {
    expect(registryPage("registry.internal:5000/acme/app")).toBeNull();
    expect(registryPage("127.0.0.1:5000/acme/app")).toBeNull();
    expect(registryPage("docker.io/acme/App")).toBeNull();
    expect(registryPage("python")).toBeNull();
  });
});

describe("sourceUrl", () => {
  it.each([
    ["https://github.com/acme/app", "https://github.com/acme/app"],
    ["https://github.com/acme/app.git", "https://github.com/acme/app"],
    ["git+https://github.com/acme/app.git", "https://github.com/acme/app"],
    ["git@github.com:acme/app.git", "https://github.com/acme/app"],
    ["github.com/acme/app", "https://github.com/acme/app"],
    ["https://github.com/acme/app/", "https://github.com/acme/app"],
    ["https://git.example.org/team/app", "https://git.example.org/team/app"],
  ])("%s → %s", (label, url) => {
    expect(sourceUrl(label)?.href).toBe(url);
  });

  it.each(["git@evil.example:acme/app", "evil.example/acme/app", "http://github.com/acme/app", "https://u:p@github.com/acme/app", "ftp://github.com/x"])(
    "refuses %s",
    (label) => {
      expect(sourceUrl(label)).toBeNull();
    },
  );
});

describe("imageSource, commitUrl and compareUrl", () => {
  const labels = (source: string, revision?: string, version?: string) => ({
    [LABEL_SOURCE]: source,
    ...(revision ? { [LABEL_REVISION]: revision } : {}),
    ...(version ? { [LABEL_VERSION]: version } : {}),
  });

  it("reads the source, a commit revision and the version", () => {
    const s = imageSource("ghcr.io/acme/app", labels("https://github.com/acme/app", R1.toUpperCase(), " 1.2.3 "));
    expect(s.repository?.href).toBe("https://github.com/acme/app");
    expect(s.revision).toBe(R1);
    expect(s.version).toBe("1.2.3");
    expect(s.definition).toBeUndefined();
  });

  it("takes only a commit id as a revision", () => {
    expect(imageSource("x.io/a", labels("https://github.com/a/b", "v1.2.3")).revision).toBeUndefined();
    expect(imageSource("x.io/a", labels("https://github.com/a/b", "../../evil")).revision).toBeUndefined();
  });

  it("maps a Docker Official Image without labels to its definition", () => {
    expect(imageSource("docker.io/library/python", {}).definition?.href).toBe(
      "https://github.com/docker-library/official-images/blob/master/library/python",
    );
    expect(imageSource("docker.io/acme/python", {}).definition).toBeUndefined();
  });

  it("compares two revisions of the same repository on the forges that can", () => {
    const from = imageSource("x", labels("https://github.com/acme/app", R1));
    const to = imageSource("x", labels("git@github.com:Acme/App.git", R2));
    expect(compareUrl(from, to)?.href).toBe(`https://github.com/Acme/App/compare/${R1}...${R2}`);
    const lab = (r: string) => imageSource("x", labels("https://gitlab.com/group/sub/app", r));
    expect(compareUrl(lab(R1), lab(R2))?.href).toBe(`https://gitlab.com/group/sub/app/-/compare/${R1}...${R2}`);
    expect(commitUrl(new URL("https://gitlab.com/group/sub/app"), R2)?.href).toBe(`https://gitlab.com/group/sub/app/-/commit/${R2}`);
  });

  it("has no compare view across repositories, for one revision, or off the known forges", () => {
    const a = imageSource("x", labels("https://github.com/acme/app", R1));
    expect(compareUrl(a, imageSource("x", labels("https://github.com/acme/other", R2)))).toBeNull();
    expect(compareUrl(a, imageSource("x", labels("https://github.com/acme/app")))).toBeNull();
    expect(compareUrl(a, a)).toBeNull();
    const other = (r: string) => imageSource("x", labels("https://git.example.org/acme/app", r));
    expect(compareUrl(other(R1), other(R2))).toBeNull();
    expect(commitUrl(new URL("https://git.example.org/acme/app"), R1)).toBeNull();
  });
});
