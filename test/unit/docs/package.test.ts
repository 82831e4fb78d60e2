/**
 * What the npm package holds: the LICENSE that package.json names, and every
 * file a packed Markdown document links to (a link from README.md to
 * docs/cli.md must not point out of the tarball). The packed set is read
 * from package.json's `files`, as npm reads it; README.md, LICENSE and
 * package.json are packed whatever `files` says.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { test } from "node:test";
import { readDoc, repoRoot } from "./doc-files.ts";

interface PackageJson {
  license: string;
  files: string[];
  devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readDoc("package.json")) as PackageJson;

/** Whether npm packs the file at `path` (relative to the root, with forward slashes). */
function packed(path: string): boolean {
  if (["README.md", "LICENSE", "package.json"].includes(path)) return true;
  return pkg.files.some((entry) => (entry.endsWith("/") ? path.startsWith(entry) : path === entry || path.startsWith(`${entry}/`)));
}

/** Every packed Markdown file, relative to the root. */
function packedMarkdown(): string[] {
  const root = repoRoot();
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(join(root, dir))) {
      if (name === "node_modules" || name.startsWith(".")) continue;
      const path = dir === "" ? name : `${dir}/${name}`;
      if (statSync(join(root, path)).isDirectory()) walk(path);
      else if (name.endsWith(".md") && packed(path)) out.push(path);
    }
  };
  walk("");
  return out.sort();
}

test("the package holds the Apache-2.0 LICENSE that package.json names", () => {
  assert.equal(pkg.license, "Apache-2.0");
  const text = readDoc("LICENSE");
  assert.match(text, /^\s*Apache License\s+Version 2\.0, January 2004\s/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
  assert.ok(pkg.files.includes("LICENSE"), `"files" in package.json does not name LICENSE`);
});

test("every relative link of a packed Markdown file points at a packed file", () => {
  const docs = packedMarkdown();
  for (const must of ["README.md", "journal-format.md", "docs/cli.md"]) assert.ok(docs.includes(must), `${must} is not packed`);
  let links = 0;
  for (const doc of docs) {
    for (const m of readDoc(doc).matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = (m[1] ?? "").split("#")[0] ?? "";
      if (target === "" || /^[a-z]+:/.test(target)) continue;
      links++;
      const path = relative(".", normalize(join(dirname(doc), target))).replaceAll("\\", "/");
      assert.ok(existsSync(join(repoRoot(), path)), `${doc} links to "${target}", which does not exist`);
      assert.ok(packed(path), `${doc} links to "${target}", which npm does not pack`);
    }
  }
  assert.ok(links >= 10, `only ${links} relative links found`);
});

/** The text of every file under `dir` whose name ends with one of `exts`. */
function sources(dir: string, exts: string[]): string {
  const root = repoRoot();
  let text = "";
  const walk = (path: string): void => {
    for (const name of readdirSync(join(root, path))) {
      const child = `${path}/${name}`;
      if (child === "test/unit/docs") continue; // These tests name every package they look for.
      if (statSync(join(root, child)).isDirectory()) walk(child);
      else if (exts.some((e) => name.endsWith(e))) text += readDoc(child);
    }
  };
  if (existsSync(join(root, dir))) walk(dir);
  return text;
}

test("every devDependency is used: imported by a script or test, or run by an npm script", () => {
  const code = ["scripts", "test", "bench"].map((d) => sources(d, [".ts", ".mjs", ".sh"])).join("\n");
  const npmScripts = Object.values((JSON.parse(readDoc("package.json")) as { scripts: Record<string, string> }).scripts).join("\n");
  const commands: Record<string, string> = { typescript: "tsc", deno: "deno" };
  for (const dep of Object.keys(pkg.devDependencies)) {
    const typesOf = dep.startsWith("@types/") ? dep.slice("@types/".length) : undefined;
    const used =
      (typesOf !== undefined && code.includes(`from "${typesOf}:`)) ||
      code.includes(`"${dep}"`) ||
      (commands[dep] !== undefined && new RegExp(`(^|[\\s&|])${commands[dep]} `, "m").test(npmScripts));
    assert.ok(used, `devDependency "${dep}" is not used by scripts/, test/, bench/ or an npm script`);
  }
  assert.ok(!("@yao-pkg/pkg" in pkg.devDependencies), "the build takes Node's SEA steps (docs/packaging.md): pkg is not needed");
});
