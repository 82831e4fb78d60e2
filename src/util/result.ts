/** Expected failures travel as values (see util/failure.ts); a throw means a bug. */
export type Result<T, E = Diagnostic[]> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** A place in a source file, 1-based. */
export interface Location {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** How many characters the marker under the offending text covers (at least 1). */
  readonly length?: number;
}

/** One problem found in a workflow file, printed as `file:line:col: message`. */
export interface Diagnostic {
  readonly severity: "error" | "warning";
  readonly message: string;
  readonly location?: Location;
}
