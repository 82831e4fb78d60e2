/**
 * The `if` language: a small, safe expression language, never `eval`.
 *
 *   or      := and ("||" and)*
 *   and     := not ("&&" not)*
 *   not     := "!" not | compare
 *   compare := operand (("==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "matches") operand)?
 *   operand := string | number | variable | "(" or ")"
 *
 * Variables are `[A-Za-z_][A-Za-z0-9_]*`, optionally written `.name` (Go template habit).
 */
import type { Result } from "../util/result.ts";
import { err, ok } from "../util/result.ts";
import { unreachable } from "../util/unreachable.ts";

export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "matches";

/** A parsed condition; `offset`/`length` point into the source text. */
export type Expr =
  | { readonly kind: "string"; readonly value: string; readonly offset: number; readonly length: number }
  | { readonly kind: "number"; readonly value: number; readonly offset: number; readonly length: number }
  | { readonly kind: "var"; readonly name: string; readonly offset: number; readonly length: number }
  | { readonly kind: "not"; readonly operand: Expr }
  /** `a && b && c` is one node with three operands, so long chains stay shallow. */
  | { readonly kind: "and" | "or"; readonly operands: readonly Expr[] }
  | {
    readonly kind: "compare";
    readonly op: CompareOp;
    readonly left: Expr;
    readonly right: Expr;
    /** For `matches` with a literal pattern: compiled (and checked) at parse time. */
    readonly regex?: RegExp;
  };

/** Why a condition could not be parsed, and where (offset into the source). */
export interface ExprError {
  readonly message: string;
  readonly offset: number;
  readonly length: number;
}

type TokenKind = "string" | "number" | "ident" | "op" | "(" | ")" | "end";
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** The decoded value of a string literal, or the name of an identifier. */
  readonly value: string;
  readonly offset: number;
  readonly length: number;
}

class ParseError {
  constructor(readonly error: ExprError) {}
}

const fail = (message: string, offset: number, length: number): never => {
  throw new ParseError({ message, offset, length: Math.max(1, length) });
};

const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, start: number, end: number, value = src.slice(start, end)) =>
    tokens.push({ kind, text: src.slice(start, end), value, offset: start, length: end - start });
  while (i < src.length) {
    const c = src[i] ?? "";
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === '"' || c === "'") {
      let value = "";
      i++;
      for (;;) {
        const d = src[i];
        if (d === undefined) fail("Unterminated string in condition", start, src.length - start);
        if (d === c) break;
        if (d === "\\") {
          const e = src[i + 1];
          if (e === undefined) fail("Unterminated string in condition", start, src.length - start);
          // Unknown escapes keep the backslash, so regular expressions like "\d" read naturally.
          value += ESCAPES[e ?? ""] ?? `\\${e}`;
          i += 2;
          continue;
        }
        value += d;
        i++;
      }
      i++;
      push("string", start, i, value);
      continue;
    }
    const num = /-?(?:\d+(?:\.\d+)?|\.\d+)(?![A-Za-z_])/y;
    num.lastIndex = i;
    if ((c === "-" || /\d/.test(c)) && num.exec(src)) {
      i = num.lastIndex;
      push("number", start, i);
      continue;
    }
    const ident = /\.?[A-Za-z_][A-Za-z0-9_]*/y;
    ident.lastIndex = i;
    if (ident.exec(src)) {
      i = ident.lastIndex;
      const text = src.slice(start, i);
      if (text === "contains" || text === "matches") push("op", start, i);
      else push("ident", start, i, text.startsWith(".") ? text.slice(1) : text);
      continue;
    }
    const two = src.slice(i, i + 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
      i += 2;
      push("op", start, i);
      continue;
    }
    if (c === "<" || c === ">" || c === "!") {
      i++;
      push("op", start, i);
      continue;
    }
    if (c === "(" || c === ")") {
      i++;
      push(c, start, i);
      continue;
    }
    if (c === "=") fail('Unknown operator "=" in condition (did you mean "=="?)', i, 1);
    if (c === "&" || c === "|") fail(`Unknown operator "${c}" in condition (did you mean "${c}${c}"?)`, i, 1);
    fail(`Unexpected character "${c}" in condition`, i, 1);
  }
  tokens.push({ kind: "end", text: "", value: "", offset: src.length, length: 0 });
  return tokens;
}

/**
 * How deep "(" and "!" may nest. Evaluation recurses once per level, so without a cap a
 * condition of thousands of "(" would overflow the stack; no real condition needs more.
 */
export const MAX_EXPR_DEPTH = 64;

const COMPARE_OPS: ReadonlySet<string> = new Set(["==", "!=", "<", "<=", ">", ">=", "contains", "matches"]);

/** Parses a condition. Never throws for bad input: problems come back with their offset. */
export function parseExpr(src: string): Result<Expr, ExprError> {
  let tokens: Token[];
  try {
    tokens = tokenize(src);
  } catch (e) {
    if (e instanceof ParseError) return err(e.error);
    throw e;
  }
  let pos = 0;
  const peek = (): Token => tokens[pos] ?? tokens[tokens.length - 1]!;
  const next = (): Token => tokens[pos++] ?? tokens[tokens.length - 1]!;
  const describe = (t: Token) => (t.kind === "end" ? "end of condition" : `"${t.text}"`);

  let depth = 0;
  const deeper = (t: Token) => {
    if (++depth > MAX_EXPR_DEPTH) fail(`Condition nests "(" and "!" more than ${MAX_EXPR_DEPTH} deep`, t.offset, t.length);
  };
  const parseOr = (): Expr => {
    const operands = [parseAnd()];
    while (peek().kind === "op" && peek().text === "||") {
      next();
      operands.push(parseAnd());
    }
    return operands.length === 1 ? operands[0]! : { kind: "or", operands };
  };
  const parseAnd = (): Expr => {
    const operands = [parseNot()];
    while (peek().kind === "op" && peek().text === "&&") {
      next();
      operands.push(parseNot());
    }
    return operands.length === 1 ? operands[0]! : { kind: "and", operands };
  };
  const parseNot = (): Expr => {
    // A loop, not recursion: the depth check must come before any stack is used.
    const nots: Token[] = [];
    while (peek().kind === "op" && peek().text === "!") {
      deeper(peek());
      nots.push(next());
    }
    let e = parseCompare();
    for (let k = 0; k < nots.length; k++) e = { kind: "not", operand: e };
    depth -= nots.length;
    return e;
  };
  const parseCompare = (): Expr => {
    const left = parseOperand();
    const t = peek();
    if (t.kind !== "op" || !COMPARE_OPS.has(t.text)) return left;
    next();
    const op = t.text as CompareOp;
    const right = parseOperand();
    if (op === "matches" && right.kind === "string") {
      try {
        return { kind: "compare", op, left, right, regex: new RegExp(right.value) };
      } catch (e) {
        const detail = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, "") : String(e);
        return fail(`Invalid regular expression "${right.value}": ${detail}`, right.offset, right.length);
      }
    }
    return { kind: "compare", op, left, right };
  };
  const parseOperand = (): Expr => {
    const t = next();
    switch (t.kind) {
      case "string":
        return { kind: "string", value: t.value, offset: t.offset, length: t.length };
      case "number":
        return { kind: "number", value: Number(t.text), offset: t.offset, length: t.length };
      case "ident":
        return { kind: "var", name: t.value, offset: t.offset, length: t.length };
      case "(": {
        deeper(t);
        const inner = parseOr();
        depth--;
        const close = next();
        if (close.kind !== ")") fail(`Expected ")" to close "(" in condition, found ${describe(close)}`, close.offset, close.length);
        return inner;
      }
      case ")":
      case "op":
      case "end":
        return fail(`Expected a value in condition, found ${describe(t)}`, t.offset, t.length);
      default:
        return unreachable(t.kind);
    }
  };

  try {
    if (peek().kind === "end") return err({ message: "Condition is empty", offset: 0, length: Math.max(1, src.length) });
    const expr = parseOr();
    const rest = peek();
    if (rest.kind !== "end") fail(`Unexpected ${describe(rest)} in condition`, rest.offset, rest.length);
    return ok(expr);
  } catch (e) {
    if (e instanceof ParseError) return err(e.error);
    throw e;
  }
}

/** The variables a condition reads, each once, in order of first use. */
export function exprVars(expr: Expr): string[] {
  const names = new Set<string>();
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case "var":
        names.add(e.name);
        return;
      case "string":
      case "number":
        return;
      case "not":
        return walk(e.operand);
      case "and":
      case "or":
        for (const o of e.operands) walk(o);
        return;
      case "compare":
        walk(e.left);
        walk(e.right);
        return;
      default:
        return unreachable(e);
    }
  };
  walk(expr);
  return [...names];
}

/** A value during evaluation: its text, and its number when it reads fully as a finite number. */
interface Value {
  readonly text: string;
  readonly number?: number;
}

const asNumber = (text: string): number | undefined => {
  if (text.trim() === "" || text.trim() !== text) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
};

const truthy = (v: Value): boolean => v.text !== "" && v.text !== "false" && v.text !== "0";

const bool = (b: boolean): Value => ({ text: String(b) });

/**
 * Evaluates a condition. An unset variable reads as "" (so `x != ""` tests whether it is set).
 * A bare value is true when non-empty and not "false" or "0". Comparisons are numeric when both
 * sides are numbers (a number literal, or a variable whose value reads fully as a finite number);
 * a quoted literal is always a string. `matches` with a pattern from a variable that is not a
 * valid regular expression is false.
 */
export function evalExpr(expr: Expr, lookup: (name: string) => string | undefined): boolean {
  const value = (e: Expr): Value => {
    switch (e.kind) {
      case "string":
        return { text: e.value };
      case "number":
        return { text: String(e.value), number: e.value };
      case "var": {
        const text = lookup(e.name) ?? "";
        const n = asNumber(text);
        return n === undefined ? { text } : { text, number: n };
      }
      case "not":
        return bool(!truthy(value(e.operand)));
      case "and":
        return bool(e.operands.every((o) => truthy(value(o))));
      case "or":
        return bool(e.operands.some((o) => truthy(value(o))));
      case "compare":
        return bool(compare(e.op, value(e.left), value(e.right), e.regex));
      default:
        return unreachable(e);
    }
  };
  return truthy(value(expr));
}

function compare(op: CompareOp, l: Value, r: Value, regex: RegExp | undefined): boolean {
  switch (op) {
    case "contains":
      return l.text.includes(r.text);
    case "matches": {
      if (regex) return regex.test(l.text);
      try {
        return new RegExp(r.text).test(l.text);
      } catch {
        return false;
      }
    }
    case "==":
    case "!=":
    case "<":
    case "<=":
    case ">":
    case ">=": {
      const numeric = l.number !== undefined && r.number !== undefined;
      const a = numeric ? l.number! : l.text;
      const b = numeric ? r.number! : r.text;
      const c = a < b ? -1 : a > b ? 1 : 0;
      if (op === "==") return c === 0;
      if (op === "!=") return c !== 0;
      if (op === "<") return c < 0;
      if (op === "<=") return c <= 0;
      if (op === ">") return c > 0;
      return c >= 0;
    }
    default:
      return unreachable(op);
  }
}
