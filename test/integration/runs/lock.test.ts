import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { acquireLock } from "../../../src/runs/lock.ts";
import { bootId, procStart } from "../../../src/platform/process.ts";
import { isDeno } from "../../../src/platform/runtime.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "wf-lock-"));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, isDeno ? ["eval", ""] : ["-e", ""]);
  assert.ok(r.pid);
  return r.pid;
}

function lockJson(o: { pid: number; host?: string; proc_start?: number | null; boot_id?: string | null }): string {
  return JSON.stringify({
    pid: o.pid,
    host: o.host ?? hostname(),
    started_at: "2025-01-01T00:00:00.000Z",
    proc_start: o.proc_start === undefined ? procStart(o.pid) : o.proc_start,
    boot_id: o.boot_id === undefined ? bootId() : o.boot_id,
  });
}

test("acquireLock() writes pid, host, start and boot id in a 0600 file, and release() removes it", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    const lock = await acquireLock(path);
    assert.ok(lock.ok);
    assert.equal(lock.value.tookOver, undefined);
    const content = JSON.parse(await readFile(path, "utf8"));
    assert.equal(content.pid, process.pid);
    assert.equal(content.host, hostname());
    assert.match(content.started_at, /^\d{4}-\d\d-\d\dT/);
    assert.ok("proc_start" in content && "boot_id" in content);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    await lock.value.release();
    await lock.value.release();
    assert.deepEqual(await readdir(dir), []);
  });
});

test("acquireLock() refuses a lock held by a live process, naming its pid and host", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    await writeFile(path, lockJson({ pid: process.ppid }));
    const lock = await acquireLock(path);
    assert.ok(!lock.ok);
    assert.equal(lock.error.pid, process.ppid);
    assert.equal(lock.error.host, hostname());
    assert.equal(lock.error.startedAt, "2025-01-01T00:00:00.000Z");
    assert.match(lock.error.message, new RegExp(`held by pid ${process.ppid} on host "`));
  });
});

test("acquireLock() takes over a lock whose owner is dead", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    const pid = deadPid();
    await writeFile(path, lockJson({ pid, proc_start: 12345 }));
    const lock = await acquireLock(path);
    assert.ok(lock.ok);
    assert.deepEqual(lock.value.tookOver, { pid, host: hostname() });
    assert.equal(JSON.parse(await readFile(path, "utf8")).pid, process.pid);
    await lock.value.release();
  });
});

test("acquireLock() takes over when the pid now names another process or the host rebooted", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    const reused = procStart(process.ppid);
    if (reused !== null) {
      await writeFile(path, lockJson({ pid: process.ppid, proc_start: reused + 1 }));
      const lock = await acquireLock(path);
      assert.ok(lock.ok, "a reused pid is not the owner");
      await lock.value.release();
    }
    if (bootId() !== null) {
      await writeFile(path, lockJson({ pid: process.ppid, boot_id: "00000000-0000-0000-0000-000000000000" }));
      const lock = await acquireLock(path);
      assert.ok(lock.ok, "a lock from before a reboot is dead");
      await lock.value.release();
    }
  });
});

test("acquireLock() never breaks a lock from another host", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    await writeFile(path, lockJson({ pid: deadPid(), host: "some-other-host" }));
    const lock = await acquireLock(path);
    assert.ok(!lock.ok);
    assert.equal(lock.error.host, "some-other-host");
  });
});

test("acquireLock() lets exactly one of many concurrent callers win", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    const results = await Promise.all(Array.from({ length: 16 }, () => acquireLock(path)));
    assert.equal(results.filter((r) => r.ok).length, 1);
    for (const r of results) if (!r.ok) assert.equal(r.error.pid, process.pid);
  });
});

test("acquireLock() lets exactly one of many concurrent callers take over a dead lock", async () => {
  await withDir(async (dir) => {
    const path = join(dir, "lock");
    await writeFile(path, lockJson({ pid: deadPid() }));
    const results = await Promise.all(Array.from({ length: 16 }, () => acquireLock(path)));
    const winners = results.filter((r) => r.ok);
    assert.equal(winners.length, 1);
    assert.deepEqual(await readdir(dir), ["lock"], "no temp or stale files are left");
  });
});
