// Which files are Dockerfiles: `Dockerfile`, `Containerfile`, `*.Dockerfile`, `*.dockerfile`, `Dockerfile.*`, `Containerfile.*`.

const DOCKERFILE_NAME = /^(?:(?:Dockerfile|Containerfile)(?:\..+)?|.+\.[Dd]ockerfile)$/;

/**
 * Whether a path (any separators) names a file to scan, judged by its base name.
 *
 * @example isDockerfilePath("services/api/Dockerfile.prod") // true
 */
export function isDockerfilePath(path: string): boolean {
  const base = path.slice(Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\")) + 1);
  return DOCKERFILE_NAME.test(base);
}
