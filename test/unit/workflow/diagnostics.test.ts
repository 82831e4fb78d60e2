import { test } from "node:test";
import assert from "node:assert/strict";
import { diagnosticsToJson, formatDiagnostics } from "../../../src/report/diagnostics.ts";
import { validateWorkflow } from "../../../src/commands/load.ts";

const SRC = '[tasks.lint]\ncmd = "x"\n[tasks.build]\ncmd = "echo {{.v}}"\ndepends_on = ["lnt"]\n';

test("formatDiagnostics prints file:line:col, the line and a marker under the offending text", () => {
  const { diagnostics } = validateWorkflow("ci.toml", SRC);
  assert.equal(
    formatDiagnostics(diagnostics, new Map([["ci.toml", SRC]]), false),
    [
      'ci.toml:5:15: error: Unknown task "lnt" in depends_on of "build" (did you mean "lint"?)',
      '5 | depends_on = ["lnt"]',
      "  |               ^~~~~",
      "",
    ].join("\n"),
  );
});

test("formatDiagnostics keeps tabs and widens the gutter for long line numbers", () => {
  const src = "\n".repeat(9) + '\tx = "ab"\n';
  const out = formatDiagnostics(
    [{ severity: "warning", message: "Odd", location: { file: "f", line: 10, column: 7, length: 2 } }],
    new Map([["f", src]]),
    false,
  );
  assert.equal(out, 'f:10:7: warning: Odd\n10 | \tx = "ab"\n   | \t     ^~\n');
});

test("formatDiagnostics without a location or source prints only the message", () => {
  assert.equal(formatDiagnostics([{ severity: "error", message: "Boom" }], new Map(), false), "error: Boom\n");
});

test("formatDiagnostics colours only when asked", () => {
  const d = [{ severity: "error" as const, message: "Boom" }];
  assert.match(formatDiagnostics(d, new Map(), true), /\x1b\[/);
  assert.doesNotMatch(formatDiagnostics(d, new Map(), false), /\x1b\[/);
});

test("diagnosticsToJson splits errors and warnings", () => {
  assert.deepEqual(
    diagnosticsToJson([
      { severity: "warning", message: "W", location: { file: "f", line: 1, column: 2, length: 3 } },
      { severity: "error", message: "E" },
    ]),
    {
      valid: false,
      errors: [{ file: null, line: null, column: null, message: "E" }],
      warnings: [{ file: "f", line: 1, column: 2, message: "W" }],
    },
  );
  assert.deepEqual(diagnosticsToJson([]), { valid: true, errors: [], warnings: [] });
});
