import { test } from "node:test";
import assert from "node:assert/strict";
import { evalExpr, exprVars, MAX_EXPR_DEPTH, parseExpr } from "../../../src/workflow/expr.ts";
import type { Expr } from "../../../src/workflow/expr.ts";

function parsed(src: string): Expr {
  const r = parseExpr(src);
  if (!r.ok) assert.fail(`${src}: ${r.error.message}`);
  return r.value;
}
const run = (src: string, vars: Record<string, string> = {}) => evalExpr(parsed(src), (n) => vars[n]);
const parseError = (src: string) => {
  const r = parseExpr(src);
  assert.equal(r.ok, false, src);
  return r.ok ? undefined : r.error;
};

test("the if conditions of the Go wf examples parse and evaluate", () => {
  const cases: [string, Record<string, string>, boolean][] = [
    ['staging_result == "success"', { staging_result: "success" }, true],
    ['coverage_result == "pass"', { coverage_result: "fail" }, false],
    ['budget_decision == "approved"', { budget_decision: "approved" }, true],
    ['variance_status == "over_threshold"', { variance_status: "within_threshold" }, false],
    ['txn_valid == "passed"', { txn_valid: "passed" }, true],
    ['health_status == "passed"', {}, false],
    ['slo_status != "slo_ok"', { slo_status: "slo_breach" }, true],
    ['best_f1 != "skipped"', { best_f1: "0.91" }, true],
    ['order_id != ""', { order_id: "ORD-1" }, true],
    ['order_id != ""', {}, false],
    ['risk_level == "medium"', { risk_level: "medium" }, true],
    ['min_cert_days != "12"', { min_cert_days: "12" }, false],
  ];
  for (const [src, vars, want] of cases) assert.equal(run(src, vars), want, src);
});

test("comparisons are numeric when both sides are numbers", () => {
  assert.equal(run("n < 10", { n: "9" }), true);
  assert.equal(run("n < m", { n: "9", m: "10" }), true);
  assert.equal(run("n == 1", { n: "1.0" }), true);
  assert.equal(run("n >= -2.5", { n: "-2" }), true);
  assert.equal(run('n < "10"', { n: "9" }), false, "a quoted literal compares as a string");
  assert.equal(run("n < 10", { n: "9x" }), false, "a value that is not fully a number compares as a string");
  assert.equal(run("n > 10", { n: " 11" }), false, "surrounding spaces make it a string");
});

test("string comparisons, contains and matches", () => {
  assert.equal(run('a <= "b"', { a: "a" }), true);
  assert.equal(run('a contains "ell"', { a: "hello" }), true);
  assert.equal(run('a matches "^v\\d+\\.\\d+$"', { a: "v1.2" }), true);
  assert.equal(run('a matches "^v\\d+$"', { a: "v1.2" }), false);
  assert.equal(run("a matches p", { a: "abc", p: "b" }), true);
  assert.equal(run("a matches p", { a: "abc", p: "(" }), false, "an invalid pattern from a variable is false");
  assert.equal(run("a == 'it\\'s'", { a: "it's" }), true);
});

test("precedence: || below && below ! below comparison", () => {
  assert.equal(run('a == "1" || a == "2" && b == "x"', { a: "1", b: "y" }), true);
  assert.equal(run('(a == "1" || a == "2") && b == "x"', { a: "1", b: "y" }), false);
  assert.equal(run('!a == "1"', { a: "2" }), true, "! negates the whole comparison");
  assert.equal(run("!!a", { a: "x" }), true);
});

test("a bare value is true when non-empty and not false or 0; unset reads as empty", () => {
  assert.equal(run("a", { a: "yes" }), true);
  for (const f of ["", "false", "0"]) assert.equal(run("a", { a: f }), false, f);
  assert.equal(run("a"), false);
  assert.equal(run("!a"), true);
  assert.equal(run('a == ""'), true);
});

test("variables may be written with a leading dot", () => {
  assert.equal(run('.version == "1"', { version: "1" }), true);
  assert.deepEqual(exprVars(parsed('.version == "1" && (b || .version)')), ["version", "b"]);
});

test("exprVars lists each variable once in order", () => {
  assert.deepEqual(exprVars(parsed('x == y || !(z contains "q") && x')), ["x", "y", "z"]);
});

test("parse errors give a message, offset and length", () => {
  assert.deepEqual(parseError(""), { message: "Condition is empty", offset: 0, length: 1 });
  assert.deepEqual(parseError('a == "x'), { message: "Unterminated string in condition", offset: 5, length: 2 });
  assert.deepEqual(parseError("a == "), { message: "Expected a value in condition, found end of condition", offset: 5, length: 1 });
  assert.deepEqual(parseError("a = b"), { message: 'Unknown operator "=" in condition (did you mean "=="?)', offset: 2, length: 1 });
  assert.deepEqual(parseError("a & b"), { message: 'Unknown operator "&" in condition (did you mean "&&"?)', offset: 2, length: 1 });
  assert.deepEqual(parseError("(a == b"), { message: 'Expected ")" to close "(" in condition, found end of condition', offset: 7, length: 1 });
  assert.deepEqual(parseError("a == b == c"), { message: 'Unexpected "==" in condition', offset: 7, length: 2 });
  assert.deepEqual(parseError("a b"), { message: 'Unexpected "b" in condition', offset: 2, length: 1 });
  assert.deepEqual(parseError("a @ b"), { message: 'Unexpected character "@" in condition', offset: 2, length: 1 });
  assert.deepEqual(parseError("&& a"), { message: 'Expected a value in condition, found "&&"', offset: 0, length: 2 });
  const re = parseError('a matches "[a-"');
  assert.equal(re?.offset, 10);
  assert.equal(re?.length, 5);
  assert.match(re?.message ?? "", /^Invalid regular expression "\[a-": /);
});

test("parsing never evaluates code", () => {
  assert.equal(parseExpr("process.exit(1)").ok, false);
  assert.equal(run('a == "${1+1}"', { a: "2" }), false);
});

test("nesting of ( and ! is capped at MAX_EXPR_DEPTH, with the offending token located", () => {
  const deep = parseExpr(`${"(".repeat(5000)}x${")".repeat(5000)}`);
  assert.deepEqual(deep, { ok: false, error: { message: `Condition nests "(" and "!" more than ${MAX_EXPR_DEPTH} deep`, offset: MAX_EXPR_DEPTH, length: 1 } });
  assert.equal(parseExpr(`${"!".repeat(5000)}x`).ok, false);
  const edge = parseExpr(`${"(".repeat(MAX_EXPR_DEPTH)}x${")".repeat(MAX_EXPR_DEPTH)}`);
  assert.ok(edge.ok && evalExpr(edge.value, () => "1"));
});

test("long chains of && and || are flat, so they evaluate without deep recursion", () => {
  const r = parseExpr(Array.from({ length: 20000 }, () => "x").join(" && "));
  assert.ok(r.ok);
  assert.equal(evalExpr(r.value, () => "1"), true);
  assert.equal(evalExpr(r.value, () => ""), false);
  assert.deepEqual(exprVars(r.value), ["x"]);
});
