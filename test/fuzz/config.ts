/**
 * Seed and size of the property-based tests. CI runs them with the defaults, so
 * a run is reproducible; scripts/fuzz.sh runs them longer with a random seed.
 *
 *   WF_FUZZ_SEED=1234 WF_FUZZ_RUNS=5000 node --test dist/test/fuzz/
 */
import process from "node:process";

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`Internal error: ${name} must be an integer, not "${raw}"`);
  return n;
}

/** fast-check's seed: failures print it with a path to replay the exact case. */
export const SEED = envInt("WF_FUZZ_SEED", 42);
/** Cases per pure property. */
export const RUNS = envInt("WF_FUZZ_RUNS", 300);
/** Cases per property that spawns the CLI: a few, since each costs processes. */
export const CLI_RUNS = Math.max(3, Math.min(40, Math.round(RUNS / 50)));

/** Options for `fc.assert`. */
export function params(numRuns = RUNS): { seed: number; numRuns: number } {
  return { seed: SEED, numRuns };
}
