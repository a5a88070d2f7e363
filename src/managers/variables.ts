// How each file kind writes variables in an image value, and what digest-pin makes of them.

/** A shell-style variable (`$NAME`, `${NAME}`): GitLab CI, Kubernetes manifests run through envsubst, kustomize. */
export function shellVariable(text: string): string | null {
  const m = /\$(?:\{([^}]*)\}?|([A-Za-z_][A-Za-z0-9_]*)|\(([^)]*)\)?)/.exec(text);
  if (!m) return null;
  return `uses the variable ${m[1] ?? m[2] ?? m[3] ?? ""}, whose value digest-pin cannot know`;
}

/** A GitHub Actions expression (`${{ matrix.image }}`). */
export function actionsExpression(text: string): string | null {
  const m = /\$\{\{\s*([^}]*?)\s*\}\}/.exec(text);
  if (!m && !text.includes("${{")) return null;
  return `uses the expression \${{ ${m?.[1] ?? "…"} }}, whose value is known only when the workflow runs`;
}

/** A devcontainer.json variable (`${localEnv:TAG}`). */
export function devcontainerVariable(text: string): string | null {
  const m = /\$\{([^}]*)\}?/.exec(text);
  if (!m) return null;
  return `uses the variable \${${m[1] ?? ""}}, whose value digest-pin cannot know`;
}

const COMPOSE_DEFAULT = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(:?-)([^$}]*)\}$/;

/**
 * Compose interpolation: a value that is exactly `${NAME:-default}` or `${NAME-default}` has its default as the
 * reference (pinned in place); the default's range inside the value, or null when the value is not of that form.
 *
 * @example
 * composeDefault("${IMAGE:-nginx:1.27}") // { start: 10, end: 20 }
 */
export function composeDefault(text: string): { start: number; end: number } | null {
  const m = COMPOSE_DEFAULT.exec(text);
  if (!m) return null;
  const start = 2 + (m[1] as string).length + (m[2] as string).length;
  return { start, end: text.length - 1 };
}

/** Any other compose interpolation (`$NAME`, `${NAME}`, `${NAME:?err}`, a default inside a longer value). */
export function composeVariable(text: string): string | null {
  const m = /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}?|([A-Za-z_][A-Za-z0-9_]*))/.exec(text.replace(/\$\$/g, ""));
  if (!m) return null;
  const name = m[1] ?? m[2] ?? "";
  return `uses the variable ${name} without a default of its own (only a whole \${${name}:-image} is pinned)`;
}
