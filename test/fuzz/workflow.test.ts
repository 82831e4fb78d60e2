/**
 * Property-based tests of loading workflow files. Valid files come from a
 * small grammar (tasks, depends_on, vars, matrix, if, durations, register);
 * mutated ones are those with characters and lines inserted, deleted or
 * swapped. Validation never throws: it gives a DAG, or errors that each point
 * at a line of the file. A few go through the real `wf validate`.
 *
 * The generator stays small on purpose (shallow `if`, matrices of a few
 * cells): hostile sizes are tested where they are handled, in test/unit/workflow.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { validateWorkflow } from "../../src/commands/load.ts";
import { TestRig } from "../blackbox/rig.ts";
import { CLI_RUNS, params } from "./config.ts";

const name = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const duration = fc.constantFrom("0", "250ms", "1s", "1.5s", "30s", "5m", "1h30m", "2m3s", "10us");
const tomlString = (s: string): string => JSON.stringify(s);
const text = fc.string({ maxLength: 12, unit: fc.constantFrom(..."abc xyz-_./é☃\"'\\{}") });

interface TaskSpec {
  id: string;
  cmd: string;
  deps: number[];
  matrix?: [string, string[]][];
  register?: boolean;
  ifExpr?: string;
  retries?: number;
  retryDelay?: string;
  timeout?: string;
  ignoreFailure?: boolean;
}

/** An `if` over the file's [vars], a few levels deep at most. */
function condition(vars: readonly string[]): fc.Arbitrary<string> {
  const leaf = vars.length === 0
    ? fc.constantFrom("1 == 1", '"a" != "b"')
    : fc.tuple(fc.constantFrom(...vars), fc.constantFrom("==", "!=", "<", ">=", "contains", "matches"), fc.constantFrom('"x"', "12", '"^re"', "0.5"))
      .map(([v, op, lit]) => `${v} ${op} ${lit}`);
  const { expr } = fc.letrec<{ expr: string }>((tie) => ({
    expr: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.tuple(tie("expr"), fc.constantFrom("&&", "||"), tie("expr")).map(([a, op, b]) => `${a} ${op} ${b}`),
      tie("expr").map((e) => `!(${e})`),
    ),
  }));
  return expr;
}

/** A valid workflow file's text: dependencies only on earlier tasks, so never a cycle. */
const validWorkflow: fc.Arbitrary<string> = fc
  .record({
    vars: fc.uniqueArray(name, { maxLength: 3 }),
    ids: fc.uniqueArray(name, { minLength: 1, maxLength: 6 }),
  })
  .chain(({ vars, ids }) =>
    fc.record({
      vars: fc.constant(vars),
      values: fc.array(text, { minLength: vars.length, maxLength: vars.length }),
      tasks: fc.tuple(
        ...ids.map((id, i) =>
          fc.record(
            {
              id: fc.constant(id),
              cmd: text.map((t) => `echo ${t}`),
              deps: i === 0 ? fc.constant([]) : fc.uniqueArray(fc.integer({ min: 0, max: i - 1 }), { maxLength: 3 }),
              matrix: fc.uniqueArray(fc.tuple(name, fc.uniqueArray(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 3 })), {
                maxLength: 2,
                selector: ([k]) => k,
              }),
              register: fc.boolean(),
              ifExpr: condition(vars),
              retries: fc.integer({ min: 0, max: 3 }),
              retryDelay: duration,
              timeout: duration,
              ignoreFailure: fc.boolean(),
            },
            { requiredKeys: ["id", "cmd", "deps"] },
          ),
        ),
      ),
    }),
  )
  .map(({ vars, values, tasks }) => render(vars, values, tasks as TaskSpec[]));

function render(vars: readonly string[], values: readonly string[], tasks: readonly TaskSpec[]): string {
  let out = `name = "fuzz"\n`;
  if (vars.length > 0) {
    out += "\n[vars]\n";
    vars.forEach((v, i) => (out += `${v} = ${tomlString(values[i] ?? "")}\n`));
  }
  for (const t of tasks) {
    out += `\n[tasks.${t.id}]\ncmd = ${tomlString(t.cmd)}\n`;
    if (t.deps.length > 0) out += `depends_on = [${t.deps.map((d) => tomlString(tasks[d]!.id)).join(", ")}]\n`;
    const matrix = t.matrix ?? [];
    if (matrix.length > 0) out += `matrix = { ${matrix.map(([k, vs]) => `${k} = [${vs.map(tomlString).join(", ")}]`).join(", ")} }\n`;
    // A matrix task must register one name per cell.
    if (t.register) out += `register = ${tomlString(`out_${t.id}${matrix.map(([k]) => `_{{.${k}}}`).join("")}`)}\n`;
    if (t.ifExpr !== undefined) out += `if = ${tomlString(t.ifExpr)}\n`;
    if (t.retries !== undefined) out += `retries = ${t.retries}\n`;
    if (t.retryDelay !== undefined) out += `retry_delay = ${tomlString(t.retryDelay)}\n`;
    if (t.timeout !== undefined) out += `timeout = ${tomlString(t.timeout)}\n`;
    if (t.ignoreFailure !== undefined) out += `ignore_failure = ${t.ignoreFailure}\n`;
  }
  return out;
}

type Mutation =
  | { kind: "deleteChar" | "dropLine" | "repeatLine" | "swapLines"; at: number }
  | { kind: "insert"; at: number; text: string };

const where = fc.noBias(fc.integer({ min: 0, max: 999_999 })).map((n) => n / 1_000_000);
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom("deleteChar" as const, "dropLine" as const, "repeatLine" as const, "swapLines" as const), at: where }),
  fc.record({
    kind: fc.constant("insert" as const),
    at: where,
    text: fc.oneof(
      fc.constantFrom("[", "]", "{", "}", "=", '"', "'", ",", "\n", "#", ".", "{{", "}}", "[tasks.x]\n", "depends_on = [\"zz\"]\n", "matrix = {}\n", 'if = "(("\n', 'timeout = "-1s"\n', "\u0000", "\uFEFF"),
      fc.string({ maxLength: 4 }),
    ),
  }),
);

function mutate(source: string, m: Mutation): string {
  if (m.kind === "insert" || m.kind === "deleteChar") {
    const at = Math.floor(m.at * (source.length + (m.kind === "insert" ? 1 : 0)));
    return m.kind === "insert" ? source.slice(0, at) + m.text + source.slice(at) : source.slice(0, at) + source.slice(at + 1);
  }
  const lines = source.split("\n");
  const i = Math.floor(m.at * lines.length);
  if (m.kind === "dropLine") lines.splice(i, 1);
  else if (m.kind === "repeatLine") lines.splice(i, 0, lines[i] ?? "");
  else if (i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
  return lines.join("\n");
}

const mutatedWorkflow = fc.tuple(validWorkflow, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([s, ms]) => ms.reduce(mutate, s));

/** Every error names a line of the file (or the line just after its end, for "expected more"). */
function assertLocated(source: string, result: ReturnType<typeof validateWorkflow>): void {
  const lineCount = source.split("\n").length;
  const errors = result.diagnostics.filter((d) => d.severity === "error");
  if (result.dag !== undefined) {
    assert.deepEqual(errors, [], "a DAG comes only without errors");
    return;
  }
  assert.ok(errors.length > 0, "no DAG and no error");
  for (const e of errors) {
    assert.ok(e.location !== undefined, `no location: ${e.message}`);
    assert.ok(e.location.line >= 1 && e.location.line <= lineCount, `line ${e.location.line} of ${lineCount}: ${e.message}`);
    assert.ok(e.location.column >= 1, `column ${e.location.column}: ${e.message}`);
  }
}

describe("validateWorkflow() on generated files", () => {
  test("a file from the grammar is valid and gives a DAG", () => {
    fc.assert(
      fc.property(validWorkflow, (source) => {
        const r = validateWorkflow("fuzz.toml", source);
        assert.deepEqual(r.diagnostics.filter((d) => d.severity === "error"), [], source);
        assert.ok(r.dag !== undefined);
      }),
      params(),
    );
  });

  test("a mutated file never throws: a DAG, or errors that each point at a line of it", () => {
    fc.assert(
      fc.property(mutatedWorkflow, (source) => assertLocated(source, validateWorkflow("fuzz.toml", source))),
      params(),
    );
  });
});

describe("wf validate on generated files", () => {
  test("exits 0 or 2, with no internal error and no stack trace", async () => {
    await using rig = await TestRig.create();
    await fc.assert(
      fc.asyncProperty(fc.oneof(validWorkflow, mutatedWorkflow), async (source) => {
        await rig.write("fuzz.toml", source);
        const r = await rig.run(["validate", "fuzz.toml"]);
        const where = `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}, source ${JSON.stringify(source)}`;
        assert.ok(r.code === 0 || r.code === 2, where);
        assert.doesNotMatch(r.stderr + r.stdout, /Internal error|\n\s+at [^\n]*:\d+:\d+/, where);
      }),
      params(CLI_RUNS),
    );
  });
});
