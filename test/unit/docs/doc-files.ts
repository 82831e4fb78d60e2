/**
 * The project's documents, read from the repository root (found from this
 * file, so the tests run from test/ and from dist/test/).
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The nearest directory above this file that holds package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("Internal error: no package.json above the docs tests");
    dir = up;
  }
  return dir;
}

/** A file of the repository as text, by its path from the root. */
export function readDoc(path: string): string {
  return readFileSync(join(repoRoot(), path), "utf8");
}

/** The bodies of the fenced blocks of one language (`sh`, `cron`, ...) in a Markdown text. */
export function fencedBlocks(markdown: string, lang: string): string[] {
  return [...markdown.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1] ?? "");
}
