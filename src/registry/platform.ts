// Platforms (`linux/arm64/v8`): parsing a FROM's --platform, normalizing aliases and default variants the way
// container runtimes do, and picking the one manifest of an index that matches.

import type { Platform } from "./types.js";

export interface PlatformSpec extends Platform {
  /** Windows images list one manifest per OS build; when both sides know it, it must match. */
  osVersion?: string;
}

/** Normalize architecture aliases and default variants (`aarch64` → `arm64`, `arm64/v8` → `arm64`, `arm` → `arm/v7`). */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  switch (architecture) {
    case "x86_64":
    case "x86-64":
    case "amd64":
      architecture = "amd64";
      if (variant === "v1") variant = undefined;
      break;
    case "aarch64":
    case "arm64":
      architecture = "arm64";
      if (variant === "8" || variant === "v8" || variant === "v8.0") variant = undefined;
      break;
    case "armhf":
      architecture = "arm";
      variant = "v7";
      break;
    case "armel":
      architecture = "arm";
      variant = "v6";
      break;
    case "arm":
      if (variant === undefined || variant === "7") variant = "v7";
      else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
      break;
    case "i386":
    case "i686":
    case "x86":
      architecture = "386";
      break;
  }
  const out: PlatformSpec = { os, architecture };
  if (variant !== undefined) out.variant = variant;
  if (p.osVersion) out.osVersion = p.osVersion;
  return out;
}

/** Parse `os/arch[/variant]`; null for anything else, including unexpanded build variables (`$TARGETPLATFORM`). */
export function parsePlatform(text: string | undefined): PlatformSpec | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed === "" || trimmed.includes("$")) return null;
  const parts = trimmed.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) return null;
  const [os = "", architecture = "", variant] = parts;
  return normalizePlatform(variant === undefined ? { os, architecture } : { os, architecture, variant });
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

export function platformMatches(want: PlatformSpec, have: PlatformSpec): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  if (a.os !== b.os || a.architecture !== b.architecture || a.variant !== b.variant) return false;
  return a.osVersion === undefined || b.osVersion === undefined || a.osVersion === b.osVersion;
}
