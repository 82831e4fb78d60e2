import { test } from "node:test";
import assert from "node:assert/strict";
import { closest, didYouMean, editDistance } from "../../../src/workflow/suggest.ts";

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
