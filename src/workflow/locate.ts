/**
 * Where things are in a TOML source. smol-toml gives values but no positions, so this small
 * scanner maps each key path (`["tasks", "build", "depends_on"]`) to the position of its key
 * and of its value, and records array elements. It knows table headers, dotted and quoted
 * keys, inline tables, nested arrays, multi-line strings and comments; it runs only on sources
 * that already parsed, so it does not validate anything.
 */
import type { Location } from "../util/result.ts";

/** A range of the source: offset from its start, and length in characters. */
export interface Span {
  readonly offset: number;
  readonly length: number;
}

/** One `key = value` (or inline-table member) of the source. */
export interface Entry {
  readonly key: Span;
  readonly value: Span;
  /** Elements, when the value is an array. */
  readonly items?: readonly Span[];
}

const join = (path: readonly string[]) => path.join("\u0000");

/**
 * Built for every file but scanned only when first asked: a valid file is never located, so
 * it costs one parse, not two (the scan is as slow as the TOML parse and allocates as much).
 */
export class SourceIndex {
  #scanned?: { readonly entries: Map<string, Entry>; readonly headers: Map<string, Span> };
  #lineStarts?: number[];
  readonly #decoded = new Map<number, number[] | null>();

  constructor(readonly file: string, readonly source: string) {}

  #scan(): { readonly entries: Map<string, Entry>; readonly headers: Map<string, Span> } {
    if (this.#scanned === undefined) {
      const scanned = { entries: new Map<string, Entry>(), headers: new Map<string, Span>() };
      new Scanner(this.source, scanned.entries, scanned.headers).scan();
      this.#scanned = scanned;
    }
    return this.#scanned;
  }

  #lines(): number[] {
    if (this.#lineStarts === undefined) {
      const starts = [0];
      for (let i = this.source.indexOf("\n"); i >= 0; i = this.source.indexOf("\n", i + 1)) starts.push(i + 1);
      this.#lineStarts = starts;
    }
    return this.#lineStarts;
  }

  /** The `key = value` entry at this path, if written as one. */
  entry(path: readonly string[]): Entry | undefined {
    return this.#scan().entries.get(join(path));
  }

  /** The `[header]` that opens the table at this path, if there is one. */
  header(path: readonly string[]): Span | undefined {
    return this.#scan().headers.get(join(path));
  }

  /** A span to blame for this path: its key, its header, or the nearest enclosing one. */
  keySpan(path: readonly string[]): Span {
    for (let n = path.length; n > 0; n--) {
      const p = path.slice(0, n);
      const s = this.entry(p)?.key ?? this.header(p);
      if (s) return s;
    }
    return { offset: 0, length: 1 };
  }

  /** A span to blame for the value at this path (falls back like keySpan). */
  valueSpan(path: readonly string[]): Span {
    return this.entry(path)?.value ?? this.keySpan(path);
  }

  /** The span of element `index` of the array at this path (falls back to the value). */
  itemSpan(path: readonly string[], index: number): Span {
    return this.entry(path)?.items?.[index] ?? this.valueSpan(path);
  }

  /**
   * The span of `needle` inside the raw text of the value at this path (the `occurrence`-th
   * match, from 0), or the whole value when it is not found as written (e.g. behind escapes).
   */
  findInValue(path: readonly string[], needle: string, occurrence = 0): Span {
    const v = this.valueSpan(path);
    const text = this.source.slice(v.offset, v.offset + v.length);
    let at = -1;
    for (let k = 0; k <= occurrence; k++) {
      at = text.indexOf(needle, at + 1);
      if (at < 0) return v;
    }
    return { offset: v.offset + at, length: needle.length };
  }

  /**
   * The span of a range of a string value's decoded text: maps a decoded offset (as in an
   * `if` expression's error) back through quotes and escapes to the source.
   */
  inString(path: readonly string[], offset: number, length: number): Span {
    const v = this.valueSpan(path);
    // Cached: a field with thousands of references is mapped once, not once per reference.
    let map = this.#decoded.get(v.offset);
    if (map === undefined) {
      map = decodedOffsets(this.source.slice(v.offset, v.offset + v.length)) ?? null;
      this.#decoded.set(v.offset, map);
    }
    if (!map) return v;
    const last = map[map.length - 1] ?? 0;
    const start = map[Math.min(offset, map.length - 1)] ?? last;
    const end = map[Math.min(offset + Math.max(length, 1), map.length - 1)] ?? last;
    return { offset: v.offset + start, length: Math.max(1, end - start) };
  }

  /** 1-based line and column of an offset, with the length capped at the end of its line. */
  location(span: Span): Location {
    const lineStarts = this.#lines();
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= span.offset) lo = mid;
      else hi = mid - 1;
    }
    const lineStart = lineStarts[lo] ?? 0;
    const nextLine = lineStarts[lo + 1];
    const lineEnd = nextLine === undefined ? this.source.length : nextLine - 1;
    const length = Math.max(1, Math.min(span.length, lineEnd - span.offset));
    return { file: this.file, line: lo + 1, column: span.offset - lineStart + 1, length };
  }
}

/**
 * For a quoted TOML string as written, the source offset of each decoded character, plus one
 * past the last (for the closing quote). Undefined when the text is not a string.
 */
export function decodedOffsets(raw: string): number[] | undefined {
  const q = raw[0];
  if (q !== '"' && q !== "'") return undefined;
  const multi = raw.startsWith(q.repeat(3));
  let i = multi ? 3 : 1;
  const end = raw.length - (multi ? 3 : 1);
  if (multi && raw[i] === "\n") i++;
  else if (multi && raw.startsWith("\r\n", i)) i += 2;
  const map: number[] = [];
  while (i < end) {
    if (q === '"' && raw[i] === "\\") {
      const e = raw[i + 1] ?? "";
      if (multi && /[ \t\r\n]/.test(e)) {
        // Line-ending backslash: it and the following whitespace vanish.
        i++;
        while (i < end && /[ \t\r\n]/.test(raw[i] ?? "")) i++;
        continue;
      }
      map.push(i);
      i += e === "u" ? 6 : e === "U" ? 10 : 2;
      continue;
    }
    map.push(i);
    i++;
  }
  map.push(end);
  return map;
}

class Scanner {
  #i = 0;
  constructor(
    readonly src: string,
    readonly entries: Map<string, Entry>,
    readonly headers: Map<string, Span>,
  ) {}

  scan(): void {
    let table: string[] = [];
    while (this.#i < this.src.length) {
      this.skipBlank(true);
      if (this.#i >= this.src.length) break;
      const c = this.src[this.#i];
      if (c === "[") {
        const start = this.#i;
        const double = this.src[this.#i + 1] === "[";
        this.#i += double ? 2 : 1;
        this.skipBlank(false);
        table = this.keyPath().path;
        this.skipBlank(false);
        if (this.src[this.#i] === "]") this.#i += double ? 2 : 1;
        this.headers.set(join(table), { offset: start, length: this.#i - start });
      } else {
        const before = this.#i;
        this.keyValue(table);
        if (this.#i === before) this.#i++; // never loop on text this scanner does not know
      }
      this.skipLine();
    }
  }

  /** Skips spaces, tabs and comments; also newlines when `newlines`. */
  skipBlank(newlines: boolean): void {
    for (;;) {
      const c = this.src[this.#i];
      if (c === " " || c === "\t" || (newlines && (c === "\n" || c === "\r"))) this.#i++;
      else if (c === "#") while (this.#i < this.src.length && this.src[this.#i] !== "\n") this.#i++;
      else return;
    }
  }

  skipLine(): void {
    while (this.#i < this.src.length && this.src[this.#i] !== "\n") {
      if (this.src[this.#i] === "#") {
        while (this.#i < this.src.length && this.src[this.#i] !== "\n") this.#i++;
        break;
      }
      this.#i++;
    }
  }

  /** A dotted key: bare or quoted parts. */
  keyPath(): { path: string[]; span: Span } {
    const start = this.#i;
    const path: string[] = [];
    let end = this.#i;
    for (;;) {
      this.skipBlank(false);
      const c = this.src[this.#i];
      if (c === '"' || c === "'") {
        const s = this.#i;
        this.skipString();
        const raw = this.src.slice(s, this.#i);
        path.push(c === '"' ? decodeBasicKey(raw) : raw.slice(1, -1));
      } else {
        const m = /[A-Za-z0-9_-]+/y;
        m.lastIndex = this.#i;
        const r = m.exec(this.src);
        if (!r) break;
        path.push(r[0]);
        this.#i = m.lastIndex;
      }
      end = this.#i;
      this.skipBlank(false);
      if (this.src[this.#i] !== ".") break;
      this.#i++;
    }
    this.#i = end;
    return { path, span: { offset: start, length: end - start } };
  }

  keyValue(prefix: readonly string[]): void {
    const { path, span } = this.keyPath();
    if (path.length === 0) return;
    this.skipBlank(false);
    if (this.src[this.#i] !== "=") return;
    this.#i++;
    this.skipBlank(false);
    const full = [...prefix, ...path];
    const start = this.#i;
    const items = this.value(full);
    const entry: Entry = { key: span, value: { offset: start, length: this.#i - start } };
    this.entries.set(join(full), items ? { ...entry, items } : entry);
  }

  /** Skips one value; returns element spans when it is an array. */
  value(path: readonly string[]): Span[] | undefined {
    const c = this.src[this.#i];
    if (c === '"' || c === "'") {
      this.skipString();
      return undefined;
    }
    if (c === "[") {
      this.#i++;
      const items: Span[] = [];
      for (;;) {
        this.skipBlank(true);
        const d = this.src[this.#i];
        if (d === undefined) return items;
        if (d === "]") {
          this.#i++;
          return items;
        }
        if (d === ",") {
          this.#i++;
          continue;
        }
        const s = this.#i;
        this.value([...path, String(items.length)]);
        if (this.#i === s) this.#i++;
        items.push({ offset: s, length: this.#i - s });
      }
    }
    if (c === "{") {
      this.#i++;
      for (;;) {
        this.skipBlank(true);
        const d = this.src[this.#i];
        if (d === undefined) return undefined;
        if (d === "}") {
          this.#i++;
          return undefined;
        }
        if (d === ",") {
          this.#i++;
          continue;
        }
        const s = this.#i;
        this.keyValue(path);
        if (this.#i === s) this.#i++;
      }
    }
    // A bare scalar: number, boolean, date.
    while (this.#i < this.src.length && !/[\s,\]}#]/.test(this.src[this.#i] ?? "")) this.#i++;
    return undefined;
  }

  skipString(): void {
    const q = this.src[this.#i] ?? '"';
    const multi = this.src.startsWith(q.repeat(3), this.#i);
    const delim = multi ? q.repeat(3) : q;
    this.#i += delim.length;
    while (this.#i < this.src.length) {
      const c = this.src[this.#i];
      if (q === '"' && c === "\\") {
        this.#i += 2;
        continue;
      }
      if (!multi && c === "\n") return;
      if (this.src.startsWith(delim, this.#i)) {
        this.#i += delim.length;
        // A multi-line string may end with up to two extra quotes: `""""` closes after one.
        if (multi) while (this.src[this.#i] === q && this.#i < this.src.length) this.#i++;
        return;
      }
      this.#i++;
    }
  }
}

function decodeBasicKey(raw: string): string {
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1);
  }
}
