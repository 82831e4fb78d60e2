import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { NodeId } from "../../../src/graph/dag.ts";
import { LevelScheduler } from "../../../src/engine/schedulers/level.ts";
import { SequentialScheduler } from "../../../src/engine/schedulers/sequential.ts";
import { WorkStealingScheduler } from "../../../src/engine/schedulers/work-stealing.ts";
import { dagOf } from "./fakes.ts";

const ids = (...names: string[]) => names as NodeId[];

describe("schedulers", () => {
  test("SequentialScheduler hands out ready nodes in topological order, whatever order they came in", () => {
    const dag = dagOf(`[tasks.a]\ncmd = "a"\n[tasks.b]\ncmd = "b"\n[tasks.c]\ncmd = "c"\n`);
    const s = new SequentialScheduler(dag);
    s.ready(ids("c", "a", "b"));
    assert.deepEqual([s.take(), s.take(), s.take(), s.take()], ["a", "b", "c", undefined]);
  });

  test("LevelScheduler holds the next level until every node of the current one has ended", () => {
    const dag = dagOf(`[tasks.a]\ncmd = "a"\n[tasks.b]\ncmd = "b"\n[tasks.c]\ncmd = "c"\ndepends_on = ["a"]\n`);
    const s = new LevelScheduler(dag);
    s.ready(ids("a", "b"));
    assert.equal(s.take(), "a");
    assert.equal(s.take(), "b");
    s.ended("a" as NodeId);
    s.ready(ids("c"));
    assert.equal(s.take(), undefined, "c waits while b, of level 0, still runs");
    s.ended("b" as NodeId);
    assert.equal(s.take(), "c");
  });

  test("WorkStealingScheduler: a worker takes its newest node; an idle one steals the oldest of the fullest deque", () => {
    const s = new WorkStealingScheduler(3);
    s.ready(ids("x1", "x2", "x3"), 0);
    s.ready(ids("y1"), 1);
    assert.equal(s.take(0), "x3");
    assert.equal(s.take(2), "x1", "worker 2 has nothing and steals from worker 0, the fullest");
    assert.equal(s.take(1), "y1");
    assert.equal(s.take(1), "x2", "worker 1 is empty now and steals the last one");
    assert.equal(s.take(0), undefined);
  });

  test("WorkStealingScheduler deals nodes made ready by no worker round-robin", () => {
    const s = new WorkStealingScheduler(2);
    s.ready(ids("a", "b", "c", "d"));
    assert.equal(s.take(0), "c");
    assert.equal(s.take(1), "d");
  });
});
