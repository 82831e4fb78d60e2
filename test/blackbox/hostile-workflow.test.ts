/**
 * Hostile workflow files through the real CLI: each is answered at once with a located
 * diagnostic (or a bounded list of them) and exit 2, never a crash, a hang or output that
 * grows with the square of the input. Limits: docs/workflow-file.md.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { describe, test } from "node:test";
import { type RunResult, TestRig } from "./rig.ts";

/** Exit 2, nothing on stdout, no stack frame, and no run directory. */
function assertRefused(rig: TestRig, r: RunResult): void {
  assert.equal(r.code, 2, `exit code; stderr:\n${r.stderr.slice(0, 2000)}`);
  assert.equal(r.stdout, "");
  assert.ok(!r.stderr.includes("    at "), "no stack trace");
  assert.ok(!r.stderr.includes("Internal error"), "no internal error");
  assert.ok(!existsSync(rig.stateDir), "no run was created");
}

/** The source line as the printer shows it: cut to 120 characters, starting 30 before the marker. */
function shown(line: string, column: number, length: number, gutter: string): string {
  const start = Math.max(0, Math.min(column - 1 - 30, line.length - 120));
  const end = Math.min(line.length, start + 120);
  const head = start > 0 ? "..." : "";
  const text = `${head}${line.slice(start, end)}${end < line.length ? "..." : ""}`;
  const at = column - start + head.length;
  const marker = Math.max(1, Math.min(length, head.length + end - start - (at - 1)));
  const pad = " ".repeat(gutter.length);
  return `${gutter} | ${text}\n${pad} | ${" ".repeat(at - 1)}^${"~".repeat(marker - 1)}\n`;
}

interface Case {
  readonly name: string;
  readonly file: string;
  readonly source: string | Buffer;
  /** The diagnostics (or the one sentence) both `wf validate` and `wf run` print. */
  readonly stderr: string;
  /** Whether stderr is a list of diagnostics, followed by each command's summary. */
  readonly diagnostics: boolean;
}

const parens = `if = "${"(".repeat(5000)}x${")".repeat(5000)}"`;
const nots = `if = "${"!".repeat(5000)}x"`;
const deps = `depends_on = [${Array.from({ length: 5000 }, (_, i) => `"nope${i}"`).join(", ")}]`;
const longId = "t".repeat(3000);

const CASES: readonly Case[] = [
  {
    name: "thousands of nested parentheses in an if",
    file: "parens.toml",
    source: `[tasks.a]\ncmd = "true"\n${parens}\n`,
    stderr: `parens.toml:3:71: error: Invalid "if" in task "a": condition nests "(" and "!" more than 64 deep\n${shown(parens, 71, 1, "3")}`,
    diagnostics: true,
  },
  {
    name: "thousands of ! in an if",
    file: "nots.toml",
    source: `[tasks.a]\ncmd = "true"\n${nots}\n`,
    stderr: `nots.toml:3:71: error: Invalid "if" in task "a": condition nests "(" and "!" more than 64 deep\n${shown(nots, 71, 1, "3")}`,
    diagnostics: true,
  },
  {
    name: "a small matrix whose product is a million nodes",
    file: "matrix.toml",
    source: `[tasks.a]\ncmd = "true"\n[tasks.a.matrix]\n${["a", "b", "c", "d", "e", "f"].map((k) => `${k} = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`).join("\n")}\n`,
    stderr: [
      'matrix.toml:3:1: error: Cannot expand the matrix of task "a": it makes 1000000 nodes, more than the 10000 allowed per task',
      "3 | [tasks.a.matrix]",
      "  | ^~~~~~~~~~~~~~~~",
      "",
    ].join("\n"),
    diagnostics: true,
  },
  {
    name: "matrices that together make more nodes than a workflow may have",
    file: "matrices.toml",
    source: Array.from({ length: 11 }, (_, i) => `[tasks.m${i}]\ncmd = "true"\nmatrix = { a = [${Array.from({ length: 100 }, (_, j) => j).join(",")}], b = [${Array.from({ length: 100 }, (_, j) => j).join(",")}] }\n`).join(""),
    stderr: `matrices.toml:33:1: error: Cannot expand task "m10": the workflow would have more than the 100000 nodes allowed per workflow\n${
      shown(`matrix = { a = [${Array.from({ length: 100 }, (_, j) => j).join(",")}], b = [${Array.from({ length: 100 }, (_, j) => j).join(",")}] }`, 1, 6, "33")
    }`,
    diagnostics: true,
  },
  {
    name: "thousands of unknown dependencies on one line",
    file: "deps.toml",
    source: `[tasks.a]\ncmd = "true"\n${deps}\n`,
    stderr: Array.from({ length: 20 }, (_, i) => {
      const column = deps.indexOf(`"nope${i}"`) + 1;
      return `deps.toml:3:${column}: error: Unknown task "nope${i}" in depends_on of "a"\n${shown(deps, column, `"nope${i}"`.length, "3")}`;
    }).join("") + "4980 more problems not shown: pass --json to list them all\n",
    diagnostics: true,
  },
  {
    name: "unknown dependencies among thousands of long task ids",
    file: "long.toml",
    source: Array.from({ length: 300 }, (_, i) => `[tasks.${longId}${i}]\ncmd = "true"\n`).join("") + `[tasks.b]\ncmd = "true"\ndepends_on = ["${longId}x"]\n`,
    stderr: `long.toml:603:15: error: Unknown task "${longId}x" in depends_on of "b"\n${shown(`depends_on = ["${longId}x"]`, 15, longId.length + 3, "603")}`,
    diagnostics: true,
  },
  {
    name: "a duration too long to represent",
    file: "dur.toml",
    source: `[tasks.a]\ncmd = "true"\ntimeout = "99999999999999999999h"\n`,
    stderr: [
      'dur.toml:3:11: error: Invalid duration "99999999999999999999h" for "timeout" in task "a": the longest allowed is 2562047h (about 292 years)',
      '3 | timeout = "99999999999999999999h"',
      "  |           ^~~~~~~~~~~~~~~~~~~~~~~",
      "",
    ].join("\n"),
    diagnostics: true,
  },
  {
    name: "[[tasks]], an array of tables",
    file: "aot.toml",
    source: `[[tasks]]\ncmd = "true"\n`,
    stderr: [
      'aot.toml:1:1: error: Expected a table for "tasks", found an array: write [tasks.<id>], not [[tasks]]',
      "1 | [[tasks]]",
      "  | ^~~~~~~~~",
      "",
    ].join("\n"),
    diagnostics: true,
  },
  {
    name: "env written as an array",
    file: "env.toml",
    source: `[tasks.a]\ncmd = "true"\nenv = ["A=1"]\n`,
    stderr: [
      'env.toml:3:7: error: Expected a table of strings for "env" in task "a", found an array',
      '3 | env = ["A=1"]',
      "  |       ^~~~~~~",
      "",
    ].join("\n"),
    diagnostics: true,
  },
  {
    name: "invalid UTF-8",
    file: "utf8.toml",
    source: Buffer.concat([Buffer.from('[tasks.a]\ncmd = "echo '), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]),
    stderr: 'Cannot read workflow "utf8.toml": invalid UTF-8 at byte offset 22\n',
    diagnostics: false,
  },
];

describe("hostile workflow files", { concurrency: 4 }, () => {
  for (const c of CASES) {
    test(`wf validate and wf run refuse ${c.name} with exit 2`, async () => {
      await using rig = await TestRig.create();
      await writeFile(rig.path(c.file), c.source);
      const errors = c.name.startsWith("thousands of unknown") ? 5000 : 1;
      const s = errors === 1 ? "" : "s";

      const validate = await rig.run(["validate", c.file]);
      assert.equal(validate.stderr, c.diagnostics ? `${c.stderr}Workflow "${c.file}" is invalid: ${errors} error${s}, 0 warnings\n` : c.stderr);
      assertRefused(rig, validate);

      const run = await rig.run(["run", c.file]);
      assert.equal(run.stderr, c.diagnostics ? `${c.stderr}Workflow "${c.file}" is invalid: ${errors} error${s}\n` : c.stderr);
      assertRefused(rig, run);
    });
  }

  test("thousands of undefined variables on one line give a bounded list of warnings and exit 0", async () => {
    await using rig = await TestRig.create();
    const cmd = `cmd = "${Array.from({ length: 5000 }, (_, i) => `{{.x${i}}}`).join(" ")}"`;
    await rig.write("refs.toml", `[tasks.a]\n${cmd}\n`);
    const validate = await rig.run(["validate", "refs.toml"]);
    const expected = Array.from({ length: 20 }, (_, i) => {
      const column = cmd.indexOf(`{{.x${i}}}`) + 1;
      return `refs.toml:2:${column}: warning: Variable "x${i}" is not defined: pass --var x${i}=VALUE\n${shown(cmd, column, `{{.x${i}}}`.length, "2")}`;
    }).join("");
    assert.equal(validate.stderr, `${expected}4980 more problems not shown: pass --json to list them all\n`);
    assert.equal(validate.stdout, 'Workflow "refs.toml" is valid: 1 task, 5000 warnings\n');
    assert.equal(validate.code, 0);

    const run = await rig.run(["run", "refs.toml"]);
    assert.equal(run.stderr, 'Variable "x0" is needed by "a" but nothing provides it: pass --var x0=VALUE\n');
    assertRefused(rig, run);
  });

  test("an if of 20,000 conditions joined by && is valid: only nesting is limited", async () => {
    await using rig = await TestRig.create();
    await rig.write("ands.toml", `[tasks.a]\ncmd = "true"\nif = "${Array.from({ length: 20000 }, () => "x").join(" && ")}"\n`);
    const validate = await rig.run(["validate", "ands.toml"]);
    assert.equal(validate.stderr, "");
    assert.equal(validate.stdout, 'Workflow "ands.toml" is valid: 1 task\n');
    assert.equal(validate.code, 0);
  });
});
