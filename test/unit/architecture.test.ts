/**
 * The import order of src/: each folder is a layer, and a file may import only
 * its own layer and the layers listed before it, so data flows one way
 * (README.md, "Development"). Also no import cycle between files, type-only
 * imports included. Reads the sources with TypeScript's parser, so imports in
 * comments and strings do not count.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** Lowest first: a layer may import itself and the layers before it. */
const LAYERS = ["util", "platform", "workflow", "graph", "journal", "runs", "engine", "report", "commands", "cli"] as const;
/** Files directly in src/, above every layer. */
const TOP_FILES = new Set(["src/main.ts", "src/sea-main.ts", "src/version.ts"]);
/** Importable from any layer: the version string is a constant, not a dependency. */
const ANYWHERE = new Set(["src/version.ts"]);

/**
 * Violations that exist today, each `"<file> -> <imported file>"` (the file
 * may be `<folder>/*`) or `"cycle <files of the cycle, sorted>"`, with why it
 * is still here. Anything not listed fails the test; delete an entry once it
 * is fixed, and do not add one without a reason.
 */
const ALLOWED = new Map<string, string>([]);

/** One file's relative imports, as written, from static `import` and `export ... from` (type-only included). */
function relativeImports(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const found: string[] = [];
  for (const s of source.statements) {
    if (!ts.isImportDeclaration(s) && !ts.isExportDeclaration(s)) continue;
    const spec = s.moduleSpecifier;
    if (spec !== undefined && ts.isStringLiteral(spec) && spec.text.startsWith(".")) found.push(spec.text);
  }
  return found;
}

/** The layer rank of a `src/...` path: LAYERS' index, LAYERS.length for the top files, undefined if it has none. */
function rank(file: string): number | undefined {
  if (TOP_FILES.has(file)) return LAYERS.length;
  const folder = file.split("/")[1] ?? "";
  const i = (LAYERS as readonly string[]).indexOf(folder);
  return i < 0 || file.split("/").length < 3 ? undefined : i;
}

const layerName = (file: string): string => (TOP_FILES.has(file) ? file : `${file.split("/")[1]}/`);

/** One file's imports, resolved to `src/...` paths (or paths outside src/). */
type ImportGraph = ReadonlyMap<string, readonly { readonly spec: string; readonly target: string }[]>;

interface Violation {
  /** Allowlist key: `"<file> -> <target>"` or `"cycle <files>"`. */
  readonly key: string;
  readonly message: string;
}

/** Imports that go up the layer order, leave src/, or start from a file outside every layer. */
function layerViolations(graph: ImportGraph): Violation[] {
  const out: Violation[] = [];
  for (const [file, imports] of graph) {
    const from = rank(file);
    if (from === undefined) {
      out.push({ key: `${file} -> *`, message: `${file} is in no layer: add its folder to LAYERS in test/unit/architecture.test.ts` });
      continue;
    }
    for (const { spec, target } of imports) {
      const key = `${file} -> ${target}`;
      if (!target.startsWith("src/")) {
        out.push({ key, message: `${file} imports "${spec}", which is outside src/` });
        continue;
      }
      if (ANYWHERE.has(target)) continue;
      const to = rank(target);
      if (to === undefined) out.push({ key, message: `${file} imports "${spec}", which is in no layer` });
      else if (to > from) {
        const may = from === LAYERS.length ? "anything" : LAYERS.slice(0, from + 1).join(", ");
        out.push({ key, message: `${file} imports "${spec}": ${layerName(file)} may not import ${layerName(target)} (it may import ${may})` });
      }
    }
  }
  return out;
}

/** Every import cycle between files, one per strongly connected component (Tarjan), shown as one path around it. */
function cycles(graph: ImportGraph): Violation[] {
  const edges = (file: string): string[] => [...new Set((graph.get(file) ?? []).map((i) => i.target).filter((t) => graph.has(t)))].sort();
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of edges(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || edges(v).includes(v)) components.push(component.sort());
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((members) => {
    const path = shortestCycle(members[0]!, new Set(members), edges);
    const others = members.filter((m) => !path.includes(m));
    const also = others.length === 0 ? "" : `, and through ${others.join(", ")}`;
    return { key: `cycle ${members.join(" ")}`, message: `Import cycle: ${path.join(" -> ")}${also}` };
  });
}

/** The shortest path from `start` back to itself inside one component, by breadth-first search. */
function shortestCycle(start: string, members: ReadonlySet<string>, edges: (file: string) => string[]): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i]!;
    for (const w of edges(v)) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path: string[] = [];
        for (let u = v; u !== start; u = previous.get(u)!) path.unshift(u);
        return [start, ...path, start];
      }
      if (!previous.has(w) && w !== start) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

/** The nearest folder above this file holding package.json (the repository, from test/ or dist/test/). */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("Internal error: no package.json above the architecture test");
    dir = parent;
  }
}

async function tsFiles(root: string, rel: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(join(root, rel), { withFileTypes: true })) {
    const path = `${rel}/${d.name}`;
    if (d.isDirectory()) out.push(...(await tsFiles(root, path)));
    else if (d.name.endsWith(".ts") && !d.name.endsWith(".d.ts")) out.push(path);
  }
  return out.sort();
}

/** src/'s import graph, read from the sources. */
async function sourceGraph(): Promise<Map<string, { spec: string; target: string }[]>> {
  const root = repoRoot();
  const graph = new Map<string, { spec: string; target: string }[]>();
  for (const file of await tsFiles(root, "src")) {
    const text = await readFile(join(root, file), "utf8");
    graph.set(file, relativeImports(file, text).map((spec) => ({ spec, target: posix.normalize(posix.join(posix.dirname(file), spec)) })));
  }
  return graph;
}

/** Whether a violation is allowed: its key is listed, or the key with its file's folder as `<folder>/*`. */
function allowed(v: Violation): boolean {
  if (ALLOWED.has(v.key)) return true;
  const [file, target] = v.key.split(" -> ");
  return target !== undefined && ALLOWED.has(`${posix.dirname(file!)}/* -> ${target}`);
}

function failUnlisted(found: readonly Violation[]): void {
  const unlisted = found.filter((v) => !allowed(v)).map((v) => v.message);
  if (unlisted.length > 0) assert.fail(`${unlisted.length} import${unlisted.length === 1 ? "" : "s"} against the layer order or in a cycle:\n${unlisted.join("\n")}`);
}

/** A graph from `"from -> to"` pairs of src/ paths. */
function graphOf(...edges: string[]): ImportGraph {
  const graph = new Map<string, { spec: string; target: string }[]>();
  for (const edge of edges) {
    const [from, to] = edge.split(" -> ") as [string, string | undefined];
    const list = graph.get(from) ?? [];
    graph.set(from, list);
    if (to !== undefined) {
      list.push({ spec: posix.relative(posix.dirname(from), to), target: to });
      if (!graph.has(to)) graph.set(to, []);
    }
  }
  return graph;
}

describe("architecture checks", () => {
  test("relativeImports() reads static imports and re-exports, type-only too, and skips comments, strings and packages", () => {
    const text = [
      'import type { A } from "./a.ts";',
      'import { b, type B } from "../b/b.ts";',
      'export { c } from "./c.ts";',
      'export type * from "./d.ts";',
      'import "./side.ts";',
      'import ts from "typescript";',
      '// import { no } from "./comment.ts";',
      'const s = \'import { no } from "./string.ts"\';',
    ].join("\n");
    assert.deepEqual(relativeImports("src/x/y.ts", text), ["./a.ts", "../b/b.ts", "./c.ts", "./d.ts", "./side.ts"]);
  });

  test("layerViolations() names the file, the import and the layers it may use", () => {
    const graph = graphOf(
      "src/engine/execute.ts -> src/report/reporter.ts",
      "src/report/human.ts -> src/journal/events.ts",
      "src/workflow/validate.ts -> src/graph/dag.ts",
      "src/util/result.ts -> src/version.ts",
      "src/main.ts -> src/cli/main.ts",
      "src/extra/new.ts -> src/util/result.ts",
    );
    assert.deepEqual(layerViolations(graph).map((v) => v.message), [
      'src/engine/execute.ts imports "../report/reporter.ts": engine/ may not import report/ (it may import util, platform, workflow, graph, journal, runs, engine)',
      'src/workflow/validate.ts imports "../graph/dag.ts": workflow/ may not import graph/ (it may import util, platform, workflow)',
      "src/extra/new.ts is in no layer: add its folder to LAYERS in test/unit/architecture.test.ts",
    ]);
    assert.equal(layerViolations(graph)[0]!.key, "src/engine/execute.ts -> src/report/reporter.ts");
  });

  test("only a listed import is allowed", () => {
    const v = (key: string) => ({ key, message: "" });
    assert.equal(allowed(v("src/engine/spawner.ts -> src/report/failure.ts")), false);
    assert.equal(allowed(v("src/runs/index.ts -> src/report/failure.ts")), false);
  });

  test("cycles() finds each cycle once, type-only edges included, and shows the shortest way around", () => {
    const graph = graphOf(
      "src/journal/a.ts -> src/journal/b.ts",
      "src/journal/b.ts -> src/journal/c.ts",
      "src/journal/c.ts -> src/journal/a.ts",
      "src/journal/c.ts -> src/journal/b.ts",
      "src/journal/d.ts -> src/journal/b.ts",
      "src/journal/c.ts -> src/journal/d.ts",
      "src/util/self.ts -> src/util/self.ts",
      "src/util/ok.ts -> src/util/result.ts",
    );
    assert.deepEqual(cycles(graph), [
      {
        key: "cycle src/journal/a.ts src/journal/b.ts src/journal/c.ts src/journal/d.ts",
        message: "Import cycle: src/journal/a.ts -> src/journal/b.ts -> src/journal/c.ts -> src/journal/a.ts, and through src/journal/d.ts",
      },
      { key: "cycle src/util/self.ts", message: "Import cycle: src/util/self.ts -> src/util/self.ts" },
    ]);
  });
});

describe("architecture", () => {
  test("each file in src/ imports only its own layer and the layers before it", async () => {
    const graph = await sourceGraph();
    assert.ok(graph.size > 10 && [...graph.values()].some((imports) => imports.length > 0), "found no sources or no imports in src/");
    failUnlisted(layerViolations(graph));
  });

  test("no import cycle between files in src/, type-only imports included", async () => {
    failUnlisted(cycles(await sourceGraph()));
  });
});
