/**
 * A fast yes/no check compiled from a valibot schema, for reading large
 * journals: valibot's `safeParse` builds a dataset and an output object per
 * call, which dominated reading a million lines. The schemas in events.ts stay
 * the single source; this only walks them once into plain closures.
 *
 * The check is sound, not complete: `true` means valibot accepts the value.
 * `false` may be wrong for a schema or action this compiler does not know (it
 * answers `false` for those), so on `false` the caller asks valibot, which
 * also phrases the issue.
 */
import type * as v from "valibot";

/** Returns whether a value passes; never throws. */
export type Check = (value: unknown) => boolean;

type AnySchema = v.GenericSchema & {
  readonly pipe?: readonly { kind: string; type: string; requirement?: unknown }[];
  readonly entries?: Record<string, AnySchema>;
  readonly wrapped?: AnySchema;
  readonly default?: unknown;
  readonly item?: AnySchema;
  readonly options?: readonly unknown[];
  readonly literal?: unknown;
  readonly key?: string;
};

const never: Check = () => false;

/**
 * Compiles `schema`. For a strict object (or a variant of them), keys named in
 * `alsoAllowed` are ignored instead of refused: the journal's envelope members
 * sit beside the event's own and are checked by their own schema.
 */
export function compileSchema(schema: v.GenericSchema, alsoAllowed: readonly string[] = []): Check {
  return compile(schema as AnySchema, new Set(alsoAllowed));
}

function compile(s: AnySchema, allowed: ReadonlySet<string>): Check {
  if (s.pipe !== undefined && s.pipe[0] !== s) {
    const [base, ...actions] = s.pipe;
    return compilePipe(base as AnySchema, actions, allowed);
  }
  switch (s.type) {
    case "string":
      return (x) => typeof x === "string";
    case "number":
      return (x) => typeof x === "number" && !Number.isNaN(x);
    case "boolean":
      return (x) => typeof x === "boolean";
    case "literal": {
      const lit = s.literal;
      return (x) => x === lit;
    }
    case "picklist": {
      const options = s.options ?? [];
      return (x) => options.includes(x);
    }
    case "array": {
      if (s.item === undefined) return never;
      const item = compile(s.item, new Set());
      return (x) => Array.isArray(x) && x.every(item);
    }
    case "nullable": {
      if (s.wrapped === undefined || s.default !== undefined) return never;
      const inner = compile(s.wrapped, new Set());
      return (x) => x === null || inner(x);
    }
    case "optional": {
      if (s.wrapped === undefined || s.default !== undefined) return never;
      const inner = compile(s.wrapped, new Set());
      return (x) => x === undefined || inner(x);
    }
    case "object":
    case "strict_object":
      return compileObject(s, s.type === "strict_object", allowed);
    case "variant":
      return compileVariant(s, allowed);
    default:
      return never;
  }
}

type Action = { kind: string; type: string; requirement?: unknown };

/** A schema and its checks: the journal's own kinds (bounded integers, a string and its format) as one closure each. */
function compilePipe(base: AnySchema, actions: readonly Action[], allowed: ReadonlySet<string>): Check {
  const plain = base.pipe === undefined;
  const isValidation = (a: Action, type: string) => a.kind === "validation" && a.type === type;
  if (plain && base.type === "number" && actions.every((a) => isValidation(a, "integer") || (isValidation(a, "min_value") && typeof a.requirement === "number"))) {
    const integer = actions.some((a) => a.type === "integer");
    // Every minimum holds when the largest does; none: any number but NaN.
    const min = Math.max(-Infinity, ...actions.filter((a) => a.type === "min_value").map((a) => a.requirement as number));
    return (x) => typeof x === "number" && !Number.isNaN(x) && (!integer || Number.isInteger(x)) && x >= min;
  }
  // A regex check asks for a string itself.
  const [only] = actions;
  if (plain && base.type === "string" && actions.length === 1 && (isValidation(only!, "regex") || isValidation(only!, "iso_timestamp"))) return compileAction(only!);
  return actions.map(compileAction).reduce(both, compile(base, allowed));
}

function compileAction(a: Action): Check {
  if (a.kind !== "validation") return never;
  const req = a.requirement;
  switch (a.type) {
    case "integer":
      return (x) => Number.isInteger(x);
    case "min_value":
      return typeof req === "number" ? (x) => typeof x === "number" && x >= req : never;
    case "regex":
    case "iso_timestamp":
      // A global or sticky regex keeps state between calls: leave those to valibot.
      return req instanceof RegExp && !req.global && !req.sticky ? (x) => typeof x === "string" && req.test(x) : never;
    default:
      return never;
  }
}

function both(a: Check, b: Check): Check {
  return (x) => a(x) && b(x);
}

function compileObject(s: AnySchema, strict: boolean, allowed: ReadonlySet<string>): Check {
  const entries = Object.entries(s.entries ?? {});
  const keys = entries.map(([key]) => key);
  const checks = entries.map(([, schema]) => compile(schema, new Set()));
  const required = entries.map(([, schema]) => schema.type !== "optional");
  return strict ? strictObjectCheck(keys, checks, required, allowed) : objectCheck(keys, checks, required);
}

/** valibot reads each entry as `obj[key]`: an absent key reads undefined, which only an optional entry accepts. */
function objectCheck(keys: readonly string[], checks: readonly Check[], required: readonly boolean[]): Check {
  return (x) => {
    if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
    const obj = x as Record<string, unknown>;
    for (let i = 0; i < keys.length; i++) {
      const value = obj[keys[i]!];
      if (value === undefined ? required[i] : !checks[i]!(value)) return false;
    }
    return true;
  };
}

/** Where a key that is not an entry leads in a strict object: skipped (one of `allowed`) or refused. */
const SKIP = -1;
const REFUSE = -2;

/**
 * A strict object is also refused for any key valibot's for-in loop meets that
 * is not an entry. One for-in loop does both: every key met is an entry (its
 * value checked) or allowed, and every required entry is met. An entry valibot
 * would read that this loop does not meet (not enumerable) gives false, which
 * is always safe. No Object.keys array per call.
 */
function strictObjectCheck(keys: readonly string[], checks: readonly Check[], required: readonly boolean[], allowed: ReadonlySet<string>): Check {
  const slotOf = new Map<string, number>([...allowed].map((key) => [key, SKIP]));
  keys.forEach((key, i) => slotOf.set(key, i));
  const requiredCount = required.filter(Boolean).length;
  // The key met at each position of the loop last time, and its slot: objects of one kind
  // list their keys in one order, so a key is nearly always found by one comparison.
  const lastKeys: string[] = [];
  const lastSlots: number[] = [];
  return (x) => {
    if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
    const obj = x as Record<string, unknown>;
    let met = 0;
    let position = 0;
    for (const key in obj) {
      let slot: number;
      if (lastKeys[position] === key) {
        slot = lastSlots[position]!;
      } else {
        slot = slotOf.get(key) ?? REFUSE;
        lastKeys[position] = key;
        lastSlots[position] = slot;
      }
      position++;
      if (slot < 0) {
        if (slot === REFUSE) return false;
        continue;
      }
      if (!checks[slot]!(obj[key])) return false;
      if (required[slot]) met++;
    }
    return met === requiredCount;
  };
}

function compileVariant(s: AnySchema, allowed: ReadonlySet<string>): Check {
  const key = s.key;
  if (key === undefined) return never;
  const options = (s.options ?? []) as AnySchema[];
  // Each option is chosen by its literal discriminator, as valibot does; anything else is left to valibot.
  const byTag = new Map<unknown, Check>();
  for (const o of options) {
    const tag = o.entries?.[key];
    if (tag?.type !== "literal" || byTag.has(tag.literal)) return never;
    byTag.set(tag.literal, compile(o, allowed));
  }
  return (x) => {
    if (typeof x !== "object" || x === null) return false;
    const check = byTag.get((x as Record<string, unknown>)[key]);
    return check !== undefined && check(x);
  };
}
