/**
 * One writer per run (and one active run per workflow with `--exclusive`): a
 * lock file holding its owner's pid, host, start time, process start time and
 * boot id. Generic: any path.
 *
 *   absent ──link(temp)──> held by us ──release()──> absent
 *   held by other ──owner provably dead on this host──> moved aside ──link(temp)──> held by us (tookOver)
 *   held by other ──alive, other host, or unreadable──> refused
 *
 * The file is made complete under a temporary name, fsync'd, then linked into
 * place: link() fails if the lock exists (like O_EXCL) and nobody ever sees a
 * half-written lock. Where link() is unsupported, O_EXCL create is used.
 */
import { link, open, readFile, rename, rm } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import process from "node:process";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";

/** Who holds a lock we could not take. `message` is one sentence for the user. */
export interface LockConflict {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly message: string;
}

export interface Lock {
  /** Removes the lock if it is still ours. Safe to call twice. */
  release(): Promise<void>;
  /** Set when a lock left by a dead process on this host was taken over: journal it. */
  readonly tookOver?: { readonly pid: number; readonly host: string };
}

/** The lock file's JSON. */
interface LockFile {
  pid: number;
  host: string;
  started_at: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), so a reused pid is not mistaken for the owner. */
  proc_start: number | null;
  /** /proc/sys/kernel/random/boot_id: a lock from before a reboot is dead. */
  boot_id: string | null;
}

/** Tries to take the lock at `path`; never waits. */
export async function acquireLock(
  path: string,
  info: { host?: string; now?: () => Date } = {},
): Promise<Result<Lock, LockConflict>> {
  const host = info.host ?? hostname();
  const mine: LockFile = {
    pid: process.pid,
    host,
    started_at: (info.now ?? (() => new Date()))().toISOString(),
    proc_start: procStart(process.pid),
    boot_id: bootId(),
  };
  const content = `${JSON.stringify(mine)}\n`;
  const temp = `${path}.${process.pid}.${uniq()}.tmp`;
  await writeDurably(temp, content);
  try {
    // Each pass ends in a win, a refusal, or a lost race that changed the lock: retry.
    for (let pass = 0; pass < 20; pass++) {
      if (await createExclusive(path, temp, content)) return ok(handle(path, content));
      let text: string;
      try {
        text = await readFile(path, "utf8");
      } catch (e) {
        if (code(e) === "ENOENT") continue; // released meanwhile
        throw e;
      }
      const owner = parseLock(text);
      if (!owner) {
        return err({
          pid: 0,
          host: "",
          startedAt: "",
          message: `Lock "${path}" is unreadable: remove it if no wf process is using it`,
        });
      }
      if (!provablyDead(owner, host)) {
        return err({
          pid: owner.pid,
          host: owner.host,
          startedAt: owner.started_at,
          message: `Lock "${path}" is held by pid ${owner.pid} on host "${owner.host}" since ${owner.started_at}`,
        });
      }
      // Move the dead lock aside, then check it is the one judged dead: another
      // process may have taken it over and written its own in the meantime.
      const aside = `${path}.${process.pid}.${uniq()}.stale`;
      try {
        await rename(path, aside);
      } catch (e) {
        if (code(e) === "ENOENT") continue;
        throw e;
      }
      const moved = await readFile(aside, "utf8");
      if (moved !== text) {
        await link(aside, path).catch(() => {}); // put the live one back unless a newer one is in place
        await rm(aside, { force: true });
        continue;
      }
      await rm(aside, { force: true });
      if (await createExclusive(path, temp, content)) {
        return ok(handle(path, content, { pid: owner.pid, host: owner.host }));
      }
    }
    throw new Error(`Cannot take lock "${path}": it keeps changing hands`);
  } finally {
    await rm(temp, { force: true });
  }
}

function handle(path: string, content: string, tookOver?: { pid: number; host: string }): Lock {
  return {
    ...(tookOver ? { tookOver } : {}),
    async release() {
      try {
        // Only our own lock: if it was taken over, it is someone else's now.
        if ((await readFile(path, "utf8")) === content) await rm(path, { force: true });
      } catch (e) {
        if (code(e) !== "ENOENT") throw e;
      }
    },
  };
}

/** True if the lock was created, false if it exists. */
async function createExclusive(path: string, temp: string, content: string): Promise<boolean> {
  try {
    await link(temp, path);
    return true;
  } catch (e) {
    if (code(e) === "EEXIST") return false;
    if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS", "EXDEV"].includes(code(e) ?? "")) throw e;
  }
  try {
    await writeDurably(path, content);
    return true;
  } catch (e) {
    if (code(e) === "EEXIST") return false;
    throw e;
  }
}

async function writeDurably(path: string, content: string): Promise<void> {
  const fh = await open(path, "wx", 0o600);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The owner is dead for sure: same host, and gone, or rebooted since, or its pid now names another process. */
function provablyDead(owner: LockFile, host: string): boolean {
  if (owner.host !== host) return false;
  const boot = bootId();
  if (owner.boot_id !== null && boot !== null && owner.boot_id !== boot) return true;
  if (!isAlive(owner.pid)) return true;
  const start = owner.proc_start === null ? null : procStart(owner.pid);
  return start !== null && start !== owner.proc_start;
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return code(e) !== "ESRCH"; // EPERM: it exists, owned by another user
  }
}

function parseLock(text: string): LockFile | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockFile>;
    if (typeof o.pid !== "number" || typeof o.host !== "string") return undefined;
    return {
      pid: o.pid,
      host: o.host,
      started_at: typeof o.started_at === "string" ? o.started_at : "",
      proc_start: typeof o.proc_start === "number" ? o.proc_start : null,
      boot_id: typeof o.boot_id === "string" ? o.boot_id : null,
    };
  } catch {
    return undefined;
  }
}

/** Start time of `pid` in clock ticks since boot, or null where /proc is not readable. */
export function procStart(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const value = Number(rest[22 - 3]);
    return Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** This boot's id, or null where /proc is not readable. */
export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

function code(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

let counter = 0;
function uniq(): string {
  return `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
