/** Makes a `switch` over a union exhaustive: a forgotten case fails to compile. */
export function unreachable(value: never): never {
  throw new Error(`Internal error: unexpected value ${JSON.stringify(value)}`);
}
