/**
 * The parsers of every flag. A flag that cannot be used is a
 * `usage` failure, collected by FlagReader: the first one wins and the action
 * returns it, so no parser throws.
 */
import type { Failure } from "../util/failure.ts";
import { parseDuration } from "../workflow/duration.ts";
import { MODES, type Mode } from "../journal/events.ts";
export { type Io, useColor } from "../platform/io.ts";

type Flags = Record<string, unknown>;

/** Decimal digits only, and a number JavaScript holds exactly. */
function isWholeNumber(text: string): boolean {
  return /^\d+$/.test(text) && Number.isSafeInteger(Number(text));
}

/** One-letter aliases of options that take a value. */
const SHORT: Readonly<Record<string, string>> = { output: "-o" };

/** Reads flags as cac left them; the first problem is kept in `failure`. */
export class FlagReader {
  failure: Failure | undefined;

  /**
   * `argv` is the command line as typed: cac turns text that looks like a
   * number into one (`0x10` into 16, `007` into 7), so values are read from it.
   */
  constructor(
    readonly flags: Flags,
    private readonly argv: readonly string[] = [],
  ) {}

  private usage(message: string): undefined {
    this.failure ??= { kind: "usage", message };
    return undefined;
  }

  /** True when the flag was given. */
  bool(name: string): boolean {
    return this.flags[name] === true;
  }

  /** A flag's one value as typed (the last wins when repeated). */
  text(name: string): string | undefined {
    const raw = this.flags[name];
    const last = Array.isArray(raw) ? raw.at(-1) : raw;
    if (last === undefined || last === true || last === false) return undefined;
    return this.typed(name).at(-1) ?? String(last);
  }

  /** Every value of a repeatable flag, as typed. */
  list(name: string): string[] {
    const raw = this.flags[name];
    if (raw === undefined) return [];
    const values = (Array.isArray(raw) ? raw : [raw]).map(String);
    const typed = this.typed(name);
    return typed.length === values.length ? typed : values;
  }

  /** The values given to `--<name in kebab case>` (or its one-letter alias) on the command line, in order. */
  private typed(name: string): string[] {
    const long = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    const short = SHORT[name];
    const values: string[] = [];
    for (let i = 0; i < this.argv.length; i++) {
      const arg = this.argv[i]!;
      if (arg === "--") break;
      if (arg === long || (short !== undefined && arg === short)) {
        const next = this.argv[i + 1];
        if (next !== undefined) values.push(next);
        i++;
      } else if (arg.startsWith(`${long}=`)) {
        values.push(arg.slice(long.length + 1));
      }
    }
    return values;
  }

  /** A whole number of at least `min`, written in decimal digits. */
  wholeNumber(name: string, option: string, min: number): number | undefined {
    if (this.flags[name] === undefined) return undefined;
    const value = this.text(name) ?? "";
    const n = Number(value);
    if (!isWholeNumber(value.trim()) || n < min) {
      return this.usage(`Invalid ${option} "${value}": expected a whole number of at least ${min}`);
    }
    return n;
  }

  /**
   * An option whose value is optional, `--<option>[=N]`, read from the command line as typed
   * (its value only ever after `=`): undefined when absent, true when given bare, else a whole number.
   */
  optionalWholeNumber(option: string): number | true | undefined {
    let value: string | true | undefined;
    for (const arg of this.argv) {
      if (arg === "--") break;
      if (arg === option) value = true;
      else if (arg.startsWith(`${option}=`)) value = arg.slice(option.length + 1);
    }
    if (value === undefined || value === true) return value;
    if (isWholeNumber(value)) return Number(value);
    return this.usage(`Invalid ${option}=${value}: expected a whole number, such as ${option}=3`);
  }

  /** A Go-style duration above zero. */
  duration(name: string, option: string): number | undefined {
    if (this.flags[name] === undefined) return undefined;
    const value = this.text(name) ?? "";
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0) {
      return this.usage(`Invalid ${option} "${value}": expected a duration above zero such as 90s, 10m or 1h30m`);
    }
    return ms;
  }

  /** `--var K=V`, repeatable. */
  vars(): Record<string, string> {
    const vars: Record<string, string> = {};
    for (const text of this.list("var")) {
      const eq = text.indexOf("=");
      const name = text.slice(0, eq);
      if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        this.usage(`Invalid --var "${text}": expected NAME=VALUE with a name made of letters, digits and "_"`);
        continue;
      }
      vars[name] = text.slice(eq + 1);
    }
    return vars;
  }

  /** The mode flag given, if any. */
  mode(): Mode | undefined {
    const chosen = MODES.filter((m) => this.flags[m === "work-stealing" ? "workStealing" : m] === true);
    if (chosen.length > 1) return this.usage(`Choose one mode: ${chosen.map((m) => `--${m}`).join(" and ")} were both given`);
    return chosen[0];
  }

  /** One of `choices`, or a usage failure naming them. */
  oneOf<T extends string>(name: string, option: string, choices: readonly T[], fallback: T): T {
    const value = this.text(name);
    if (value === undefined) return fallback;
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.usage(`Invalid ${option} "${value}": expected one of ${choices.join(", ")}`);
    return fallback;
  }
}
