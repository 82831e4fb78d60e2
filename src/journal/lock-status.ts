/**
 * Read-only view of a run's lock (see lock.ts): who holds it, and whether that
 * holder may still be alive. Never takes, breaks or changes a lock.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import process from "node:process";
import { bootId, procStart } from "./lock.ts";

/** The owner recorded in a lock file. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly procStart: number | null;
  readonly bootId: string | null;
}

/** The lock's owner, or undefined when there is no lock. An unreadable lock has pid 0 and host "". */
export async function lockOwner(path: string): Promise<LockOwner | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>;
    return {
      pid: typeof o["pid"] === "number" ? o["pid"] : 0,
      host: typeof o["host"] === "string" ? o["host"] : "",
      startedAt: typeof o["started_at"] === "string" ? o["started_at"] : "",
      procStart: typeof o["proc_start"] === "number" ? o["proc_start"] : null,
      bootId: typeof o["boot_id"] === "string" ? o["boot_id"] : null,
    };
  } catch {
    // Half-written or damaged: nobody can prove its owner dead, so it counts as live.
    return { pid: 0, host: "", startedAt: "", procStart: null, bootId: null };
  }
}

/**
 * True unless the owner is provably dead, with the same rules as acquireLock:
 * a lock from another host, or an unreadable one, counts as live.
 */
export function isOwnerLive(owner: LockOwner, host: string = hostname()): boolean {
  if (owner.host !== host) return true;
  const boot = bootId();
  if (owner.bootId !== null && boot !== null && owner.bootId !== boot) return false;
  if (!pidExists(owner.pid)) return false;
  const start = owner.procStart === null ? null : procStart(owner.pid);
  return start === null || start === owner.procStart;
}

/** True when the lock at `path` exists and its owner may be alive. */
export async function isLockLive(path: string): Promise<boolean> {
  const owner = await lockOwner(path);
  return owner !== undefined && isOwnerLive(owner);
}

function pidExists(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code !== "ESRCH";
  }
}
