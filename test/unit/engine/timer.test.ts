import assert from "node:assert/strict";
import { test } from "node:test";
import { abortableSleep, MAX_TIMER_MS, setLongTimeout } from "../../../src/util/timer.ts";

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("setLongTimeout() does not fire at once for 2^31 ms or more, where setTimeout would", async () => {
  let fired = 0;
  const timers = [MAX_TIMER_MS + 1, 2 ** 31, 600 * 3600 * 1000].map((ms) => setLongTimeout(() => fired++, ms));
  await tick(30);
  for (const t of timers) t.clear();
  assert.equal(fired, 0);
});

test("setLongTimeout() fires a short timer once, and clear() stops one", async () => {
  let fired = 0;
  setLongTimeout(() => fired++, 1);
  const stopped = setLongTimeout(() => fired += 10, 1);
  stopped.clear();
  await tick(30);
  assert.equal(fired, 1);
});

test("abortableSleep() of 600h ends when aborted", async () => {
  const controller = new AbortController();
  let done = false;
  const sleeping = abortableSleep(600 * 3600 * 1000, controller.signal).then(() => (done = true));
  await tick(30);
  assert.equal(done, false);
  controller.abort("test");
  await sleeping;
  assert.equal(done, true);
});
