/** "Did you mean" suggestions by edit distance. */

/** Edit distance counting an insertion, deletion, substitution or swap of neighbours as one. */
export function editDistance(a: string, b: string): number {
  // Optimal string alignment: Levenshtein plus transpositions, so "nmae" is 1 from "name".
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i]![j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * editDistance when it is at most `max`, else `max + 1`: only cells within `max` of the
 * diagonal are computed, and it stops as soon as a whole row exceeds `max`.
 */
export function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const width = b.length + 1;
  const big = max + 1;
  let prev2 = new Array<number>(width).fill(big);
  let prev = Array.from({ length: width }, (_, j) => Math.min(j, big));
  let row = new Array<number>(width).fill(big);
  for (let i = 1; i <= a.length; i++) {
    row.fill(big);
    row[0] = Math.min(i, big);
    let rowMin = row[0]!;
    for (let j = Math.max(1, i - max); j <= Math.min(b.length, i + max); j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row[j] = Math.min(d, big);
      rowMin = Math.min(rowMin, row[j]!);
    }
    if (rowMin > max) return big;
    [prev2, prev, row] = [prev, row, prev2];
  }
  return Math.min(prev[b.length]!, big);
}

/** Words longer than this get no suggestion: a typo of a 200-character id is not a typo. */
export const MAX_SUGGEST_LENGTH = 64;

/**
 * The candidate closest to `word`, if close enough to be a plausible typo:
 * at most a third of the word's length (and at least 1, at most 3) edits.
 * Ties go to the earlier candidate, so results are deterministic. Candidates whose length
 * differs by more than the limit are skipped without computing a distance, and long words
 * get no suggestion, so one call costs at most 64 x 64 steps per candidate.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  if (word.length > MAX_SUGGEST_LENGTH) return undefined;
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    if (c === word || Math.abs(c.length - word.length) > limit || c.length > MAX_SUGGEST_LENGTH) continue;
    const d = boundedDistance(lower, c.toLowerCase(), Math.min(limit, bestDistance));
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** ` (did you mean "x"?)`, or "" when nothing is close. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const c = closest(word, candidates);
  return c === undefined ? "" : ` (did you mean "${c}"?)`;
}

/**
 * didYouMean for one validation: answers are remembered per word and candidate list, and
 * after MAX_SUGGESTIONS different questions no more are looked for (the human output shows
 * the first 20 problems anyway), so thousands of unknown names among thousands of tasks cost
 * a bounded number of comparisons.
 */
export class Suggester {
  static readonly MAX_SUGGESTIONS = 20;
  readonly #memo = new WeakMap<readonly string[], Map<string, string>>();
  #asked = 0;

  readonly didYouMean = (word: string, candidates: readonly string[]): string => {
    const memo = this.#memo.get(candidates) ?? new Map<string, string>();
    this.#memo.set(candidates, memo);
    const known = memo.get(word);
    if (known !== undefined) return known;
    if (this.#asked >= Suggester.MAX_SUGGESTIONS) return "";
    this.#asked++;
    const answer = didYouMean(word, candidates);
    memo.set(word, answer);
    return answer;
  };
}
