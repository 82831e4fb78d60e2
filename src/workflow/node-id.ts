/**
 * The syntax of a node id: a task's id, or one cell of a matrix task,
 * `publish[os=linux,arch=x64]` (keys in file order). `depends_on`, `--from`,
 * `--rerun` and `wf logs` name nodes this way.
 *
 * A value is written as it is when it is plain: not empty, and free of
 * `,` `=` `[` `]` `"` `\`, whitespace and control characters. Any other value
 * is written as a JSON string: `t[a="1,b=2",b=3]`. So two cells never share an
 * id, and every id reads back to the values it was made of.
 */

/** A value that may stand unquoted in an id. */
const PLAIN = /^[^,=[\]"\\\s\p{Cc}]+$/u;

/** `key=value` for a node id, the value quoted where it must be. */
function pair(key: string, value: string): string {
  return `${key}=${PLAIN.test(value) ? value : JSON.stringify(value)}`;
}

/** The id of a task without matrix, or of one cell of a matrix task (keys in the order given). */
export function formatNodeId(task: string, matrix: Readonly<Record<string, string>> = {}): string {
  const pairs = Object.entries(matrix).map(([k, v]) => pair(k, v));
  return pairs.length === 0 ? task : `${task}[${pairs.join(",")}]`;
}

/** A node id read back: its task and its matrix values, in the order written. */
export interface ParsedNodeId {
  readonly task: string;
  readonly pairs: ReadonlyArray<readonly [key: string, value: string]>;
}

/**
 * Reads `task` or `task[k=v,k2="v,2"]`; undefined where it is not one
 * (an unclosed `[`, a pair without `=`, a bad quoted value). Space around keys
 * and plain values is dropped, as `depends_on` always allowed.
 */
export function parseNodeId(text: string): ParsedNodeId | undefined {
  const open = text.indexOf("[");
  if (open === -1) return text.includes("]") ? undefined : { task: text, pairs: [] };
  const task = text.slice(0, open).trim();
  if (task === "" || !text.endsWith("]")) return undefined;
  const body = text.slice(open + 1, -1);
  if (body.trim() === "") return { task, pairs: [] };
  const pairs: [string, string][] = [];
  let at = 0;
  for (;;) {
    const eq = body.indexOf("=", at);
    if (eq === -1) return undefined;
    const key = body.slice(at, eq).trim();
    if (key === "" || /[,[\]"]/.test(key)) return undefined;
    at = eq + 1;
    while (body[at] === " " || body[at] === "\t") at++;
    let value: string;
    if (body[at] === '"') {
      const end = closingQuote(body, at);
      if (end === -1) return undefined;
      try {
        value = JSON.parse(body.slice(at, end + 1)) as string;
      } catch {
        return undefined;
      }
      at = end + 1;
      while (body[at] === " " || body[at] === "\t") at++;
      if (at < body.length && body[at] !== ",") return undefined;
    } else {
      const comma = body.indexOf(",", at);
      const end = comma === -1 ? body.length : comma;
      value = body.slice(at, end).trim();
      if (/[[\]"]/.test(value)) return undefined;
      at = end;
    }
    pairs.push([key, value]);
    if (at >= body.length) return { task, pairs };
    at++; // the comma
  }
}

/** The index of the `"` that closes the JSON string opening at `start`, or -1. */
function closingQuote(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
