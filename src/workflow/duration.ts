/** Go-style durations (`500ms`, `30s`, `1h30m`, `1.5s`), as the Go `wf` accepts them. */
import { err, ok, type Result } from "../util/result.ts";

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
 * The longest duration accepted, in milliseconds: Go's time.Duration holds at most 2^63-1 ns
 * (about 292 years), so a longer one could not mean the same thing to the Go `wf`.
 */
export const MAX_DURATION_MS = 9_223_372_036_854;

/** Why a duration was refused: not Go syntax, or longer than MAX_DURATION_MS. */
export type DurationProblem = "invalid" | "too-long";

/**
 * Reads a Go duration into whole milliseconds (rounded). A sign is rejected: a negative
 * timeout or delay has no meaning here. `"0"` is allowed, as in Go. Linear in the text.
 */
export function readDuration(text: string): Result<number, DurationProblem> {
  if (text === "0") return ok(0);
  if (text === "") return err("invalid");
  let total = 0;
  let pos = 0;
  while (pos < text.length) {
    PART.lastIndex = pos;
    const m = PART.exec(text);
    if (!m) return err("invalid");
    const n = Number(m[1]);
    const unit = UNIT_MS[m[2] ?? ""];
    if (unit === undefined) return err("invalid");
    total += n * unit;
    pos = PART.lastIndex;
  }
  // Checked once at the end: every part is positive, so the sum only grows (Infinity included).
  return total > MAX_DURATION_MS ? err("too-long") : ok(Math.round(total));
}

/** Like readDuration, or undefined when invalid or too long. */
export function parseDuration(text: string): number | undefined {
  const r = readDuration(text);
  return r.ok ? r.value : undefined;
}
