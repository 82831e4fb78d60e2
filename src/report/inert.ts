/**
 * Text from a task or a file made inert for a terminal: a control character
 * can neither move the cursor, clear a line, recolour nor retitle it. C0
 * characters but tab and newline, and DEL, are shown as `\xHH`; C1 characters
 * (U+0080 to U+009F, which some terminals read as ESC sequences) as `\u00HH`.
 * Everything else, backslashes included, is left as it is (docs/cli.md,
 * "Control characters").
 */

const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;
const ANY_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function escapeOne(ch: string): string {
  const code = ch.charCodeAt(0);
  const hex = code.toString(16).padStart(2, "0");
  return code >= 0x80 ? `\\u00${hex}` : `\\x${hex}`;
}

/** `text` with every control character but tab and newline escaped. */
export function inert(text: string): string {
  return ANY_CONTROL.test(text) ? text.replace(CONTROL, escapeOne) : text;
}

/**
 * A copy of `value` with every string in it, keys of objects and maps
 * included, made inert: for a command's human rendering of data read from a
 * journal or a workflow file. Numbers, booleans and null are kept; so is a
 * value that holds no string to change (it is returned as it is).
 */
export function inertDeep<T>(value: T): T {
  return walk(value) as T;
}

function walk(value: unknown): unknown {
  if (typeof value === "string") return inert(value);
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const w = walk(v);
      if (w !== v) changed = true;
      return w;
    });
    return changed ? out : value;
  }
  if (value instanceof Map) {
    let changed = false;
    const out = new Map<unknown, unknown>();
    for (const [k, v] of value) {
      const wk = walk(k);
      const wv = walk(v);
      if (wk !== k || wv !== v) changed = true;
      out.set(wk, wv);
    }
    return changed ? out : value;
  }
  if (value instanceof Set) {
    let changed = false;
    const out = new Set<unknown>();
    for (const v of value) {
      const w = walk(v);
      if (w !== v) changed = true;
      out.add(w);
    }
    return changed ? out : value;
  }
  const proto = Object.getPrototypeOf(value);
  // Only plain records: a class instance (a Date, a buffer) is kept as it is.
  if (proto !== Object.prototype && proto !== null) return value;
  let changed = false;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const wk = inert(k);
    const wv = walk(v);
    if (wk !== k || wv !== v) changed = true;
    out[wk] = wv;
  }
  return changed ? out : value;
}

const JSON_RAW = /[\x7f-\x9f]/;
const JSON_RAW_ALL = /[\x7f-\x9f]/g;

/**
 * `JSON.stringify(value, null, space)` with DEL and the C1 characters escaped
 * too (as `\u007f` to `\u009f`), the only control characters it leaves as they
 * are: the text parses back to exactly the same value, and no byte of it acts
 * on a terminal. For every `--json` output.
 */
export function jsonText(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space);
  return JSON_RAW.test(text) ? text.replace(JSON_RAW_ALL, (ch) => `\\u00${ch.charCodeAt(0).toString(16)}`) : text;
}
