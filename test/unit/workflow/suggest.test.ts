import { test } from "node:test";
import assert from "node:assert/strict";
import { boundedDistance, closest, didYouMean, editDistance, MAX_SUGGEST_LENGTH, Suggester } from "../../../src/workflow/suggest.ts";

test("editDistance counts swaps of neighbours as one edit", () => {
  assert.equal(editDistance("nmae", "name"), 1);
  assert.equal(editDistance("retires", "retries"), 1);
  assert.equal(editDistance("lnt", "lint"), 1);
  assert.equal(editDistance("", "abc"), 3);
});

test("closest suggests only plausible typos", () => {
  assert.equal(closest("dependson", ["depends_on", "cmd"]), "depends_on");
  assert.equal(closest("xyz", ["depends_on", "cmd"]), undefined);
  assert.equal(didYouMean("lnt", ["build", "lint"]), ' (did you mean "lint"?)');
  assert.equal(didYouMean("zzz", ["build"]), "");
});

test("boundedDistance agrees with editDistance up to its bound", () => {
  const words = ["", "a", "ab", "ba", "abc", "acb", "lint", "lnt", "build", "biuld", "depends_on", "dependson", "retries", "retires", "xyzzy"];
  for (const a of words) {
    for (const b of words) {
      for (const max of [0, 1, 2, 3]) {
        assert.equal(boundedDistance(a, b, max), Math.min(editDistance(a, b), max + 1), `${a} ${b} ${max}`);
      }
    }
  }
});

test("closest skips words longer than MAX_SUGGEST_LENGTH", () => {
  const long = "t".repeat(MAX_SUGGEST_LENGTH + 1);
  assert.equal(closest(`${long}x`, [long]), undefined);
});

test("Suggester remembers answers and stops looking after MAX_SUGGESTIONS questions", () => {
  const s = new Suggester();
  const ids = ["lint", "build"];
  for (let i = 0; i < Suggester.MAX_SUGGESTIONS; i++) s.didYouMean(`zz${i}`, ids);
  assert.equal(s.didYouMean("lnt", ids), "");
  const t = new Suggester();
  assert.equal(t.didYouMean("lnt", ids), ' (did you mean "lint"?)');
  for (let i = 0; i < Suggester.MAX_SUGGESTIONS; i++) t.didYouMean(`zz${i}`, ids);
  assert.equal(t.didYouMean("lnt", ids), ' (did you mean "lint"?)', "a remembered answer is still given");
});
