/** Go-style durations (`500ms`, `30s`, `1h30m`, `1.5s`), as the Go `wf` accepts them. */

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/**
 * Parses a Go duration into whole milliseconds (rounded), or undefined when invalid.
 * A sign is rejected: a negative timeout or delay has no meaning here. `"0"` is allowed, as in Go.
 */
export function parseDuration(text: string): number | undefined {
  if (text === "0") return 0;
  if (text === "") return undefined;
  let total = 0;
  PART.lastIndex = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = UNIT_MS[m[2] ?? ""];
    if (!Number.isFinite(n) || unit === undefined) return undefined;
    total += n * unit;
    pos = PART.lastIndex;
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}
