// `digest-pin resolve REFERENCE`: the reference pinned to what its registry serves now, checked there.

import { formatReference, imageName, parseReference, pinnedText } from "../reference.js";
import { parsePlatform, formatPlatform, type PlatformSpec } from "../registry/platform.js";
import { safeJson, visible } from "../visible.js";
import { UsageError } from "./args.js";
import type { CommandLineRun } from "./main.js";
import { outputFormat, type Context } from "./context.js";
import { clientFromFlags } from "./registry.js";

/**
 * The reference as written, pinned to `digest`: a tag stays beside it (an untagged name gains `:latest`, as pin
 * writes it), a digest-only reference stays digest-only.
 */
function pinnedAs(written: string, hasTag: boolean, digest: string): string {
  const at = written.indexOf("@");
  if (!hasTag && at !== -1) return `${written.slice(0, at)}@${digest}`;
  return pinnedText(written, digest);
}

/** Exit 0 with the pinned reference on stdout, or throw (exit 2) with the registry's reason. */
export async function resolveCommand(line: CommandLineRun, { io, env }: Context): Promise<number> {
  const format = outputFormat("resolve", line.values);
  const text = line.positionals[0] ?? "";
  const parsed = parseReference(text);
  if (!parsed.ok) throw new UsageError(`invalid reference "${text}": ${parsed.error}`, "resolve");
  let platform: PlatformSpec | undefined;
  if (line.values.platform !== undefined) {
    platform = parsePlatform(line.values.platform) ?? undefined;
    if (!platform) throw new UsageError(`--platform "${line.values.platform}" is not OS/ARCH[/VARIANT], e.g. linux/arm64`, "resolve");
  }
  const ref = parsed.value.digest === null ? { ...parsed.value, tag: parsed.value.tag ?? "latest" } : parsed.value;
  const client = clientFromFlags(line.values, env);
  try {
    const resolution = await client.inspect(ref, platform);
    const pinned = pinnedAs(text, parsed.value.tag !== null || parsed.value.digest === null, resolution.digest);
    if (format === "json") {
      const out = {
        reference: formatReference(ref),
        image: imageName(ref),
        tag: ref.tag,
        digest: resolution.digest,
        mediaType: resolution.mediaType,
        pinned,
        ...(platform ? { platform: formatPlatform(platform) } : {}),
      };
      io.stdout(`${safeJson(out)}\n`);
    } else {
      io.stdout(`${visible(pinned)}\n`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
