import assert from "node:assert/strict";
import { test } from "node:test";
import type { ProcessTable } from "../../../src/platform/process.ts";
import { type LockOwner, provablyDead } from "../../../src/runs/lock.ts";

/** A process table where only `alive` pids exist, each started at its given tick, on boot "b1". */
function table(alive: Record<number, number>, boot: string | null = "b1"): ProcessTable {
  return {
    isAlive: (pid) => pid in alive,
    procStart: (pid) => alive[pid] ?? null,
    bootId: () => boot,
  };
}

const owner: LockOwner = { pid: 42, host: "h", started_at: "2026-01-01T00:00:00.000Z", proc_start: 1000, boot_id: "b1" };

test("provablyDead() is true only on the same host, for a gone process, a reused pid or an earlier boot", () => {
  assert.equal(provablyDead(owner, "h", table({ 42: 1000 })), false, "alive, same start");
  assert.equal(provablyDead(owner, "h", table({})), true, "gone");
  assert.equal(provablyDead(owner, "h", table({ 42: 2000 })), true, "pid reused by a later process");
  assert.equal(provablyDead(owner, "h", table({ 42: 1000 }, "b2")), true, "the machine rebooted since");
  assert.equal(provablyDead(owner, "other", table({})), false, "another host's lock is never broken");
  assert.equal(provablyDead({ ...owner, proc_start: null }, "h", table({ 42: 5 })), false, "no start time to compare: alive counts");
  assert.equal(provablyDead(owner, "h", table({ 42: 1000 }, null)), false, "no boot id where /proc is not readable");
});
