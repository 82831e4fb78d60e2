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
    const checks = [compile(base as AnySchema, allowed), ...actions.map(compileAction)];
    return (x) => {
      for (const c of checks) if (!c(x)) return false;
      return true;
    };
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

function compileAction(a: { kind: string; type: string; requirement?: unknown }): Check {
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

function compileObject(s: AnySchema, strict: boolean, allowed: ReadonlySet<string>): Check {
  const entries = Object.entries(s.entries ?? {}).map(([key, schema]) => {
    const optional = schema.type === "optional";
    return { key, optional, check: compile(schema, new Set()) };
  });
  const known = new Set(entries.map((e) => e.key));
  return (x) => {
    if (typeof x !== "object" || x === null || Array.isArray(x)) return false;
    const obj = x as Record<string, unknown>;
    for (const e of entries) {
      if (!Object.hasOwn(obj, e.key)) {
        if (!e.optional) return false;
        continue;
      }
      if (!e.check(obj[e.key])) return false;
    }
    if (strict) {
      for (const key of Object.keys(obj)) if (!known.has(key) && !allowed.has(key)) return false;
    }
    return true;
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
