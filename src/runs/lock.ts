/**
 * One writer per run (and one active run per workflow with `--exclusive`): a
 * lock file holding its owner's pid, host, start time, process start time and
 * boot id. Generic: any path.
 *
 *   absent ──link(temp)──> held by us ──release()──> absent
 *   held by other ──owner provably dead on this host──> take `<lock>.takeover` guard
 *       ──still the same dead lock──> rename(temp, lock) ──> held by us (tookOver)
 *   held by other ──alive, other host, or unreadable──> refused
 *
 * The file is made complete under a temporary name, fsync'd, then linked into
 * place: link() fails if the lock exists (like O_EXCL) and nobody ever sees a
 * half-written lock. Where link() is unsupported, O_EXCL create is used.
 */
import { link, open, readFile, rename, rm } from "node:fs/promises";
import { constants } from "node:fs";
import { hostname } from "node:os";
import process from "node:process";
import { localProcesses, type ProcessTable } from "../platform/process.ts";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";

/** Who holds a lock we could not take. `message` is one sentence for the user. */
export interface LockConflict {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly message: string;
  /** The lock file cannot be understood: it is never broken silently, and there is no owner to name. */
  readonly unreadable?: true;
}

export interface Lock {
  /** Removes the lock if it is still ours. Safe to call twice. */
  release(): Promise<void>;
  /** Set when a lock left by a dead process on this host was taken over: journal it. */
  readonly tookOver?: { readonly pid: number; readonly host: string };
}

/** The lock file's JSON. */
export interface LockOwner {
  pid: number;
  host: string;
  started_at: string;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), so a reused pid is not mistaken for the owner. */
  proc_start: number | null;
  /** /proc/sys/kernel/random/boot_id: a lock from before a reboot is dead. */
  boot_id: string | null;
  /** Tells apart two locks of one process, so release() never removes another's. */
  token?: string;
}

/** Tries to take the lock at `path`. Never waits for a holder; waits a moment only while another process takes over a dead lock. */
export async function acquireLock(
  path: string,
  info: { host?: string; now?: () => Date } = {},
): Promise<Result<Lock, LockConflict>> {
  const host = info.host ?? hostname();
  const mine: LockOwner = {
    pid: process.pid,
    host,
    started_at: (info.now ?? (() => new Date()))().toISOString(),
    proc_start: localProcesses.procStart(process.pid),
    boot_id: localProcesses.bootId(),
    token: uniq(),
  };
  const content = `${JSON.stringify(mine)}\n`;
  const temp = `${path}.${process.pid}.${uniq()}.tmp`;
  try {
    await writeDurably(temp, content);
  } catch (e) {
    // A full disk or an I/O error: leave nothing behind.
    await rm(temp, { force: true }).catch(() => {});
    throw e;
  }
  try {
    // Each pass ends in a win, a refusal, or a lost race that changed the lock: look again.
    for (let pass = 0; pass < 50; pass++) {
      if (await createExclusive(path, temp, content)) return ok(handle(path, content));
      const seen = await inspect(path, host);
      if (seen === "gone") continue; // released meanwhile
      if (seen.kind === "refused") return err(seen.conflict);
      // The owner is dead. Takeovers go one at a time through a guard file, and the
      // lock is replaced by rename, so it never disappears: plain creation cannot
      // sneak in, and two takers cannot both win.
      const guard = `${path}.takeover`;
      if (!(await createExclusive(guard, temp, content))) {
        const g = await inspect(guard, host);
        if (g !== "gone" && g.kind === "dead") await removeIfSame(guard, g.text); // its taker died mid-takeover
        else await sleep(5); // another taker is at work: it will finish in a moment
        continue;
      }
      try {
        const now = await readFile(path, "utf8").catch(() => undefined);
        if (now !== seen.text) continue; // it changed hands meanwhile: look again
        const next = `${path}.${process.pid}.${uniq()}.new`;
        await writeDurably(next, content);
        await rename(next, path);
        return ok(handle(path, content, { pid: seen.owner.pid, host: seen.owner.host }));
      } finally {
        await removeIfSame(guard, content);
      }
    }
    throw new Error(`Cannot take lock "${path}": it keeps changing hands`);
  } finally {
    await rm(temp, { force: true });
  }
}

type Inspection =
  | "gone"
  | { kind: "refused"; conflict: LockConflict }
  | { kind: "dead"; text: string; owner: LockOwner };

/**
 * Read-only: who holds the lock at `path`, unless nobody does or its owner is
 * provably dead. Never changes the file.
 */
export async function lockHolder(path: string, host = hostname()): Promise<LockConflict | undefined> {
  const found = await inspect(path, host);
  return typeof found === "object" && found.kind === "refused" ? found.conflict : undefined;
}

/** Reads a lock file and decides whether its owner is provably dead. */
async function inspect(path: string, host: string): Promise<Inspection> {
  let text: string;
  try {
    // Never through a symbolic link planted in the lock's place.
    text = await readFile(path, { encoding: "utf8", flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (e) {
    if (code(e) === "ENOENT") return "gone";
    throw e; // a symbolic link (ELOOP) or another file-system problem: the caller names it
  }
  const owner = parseLock(text);
  if (!owner) {
    const message = `Lock "${path}" is unreadable: remove it if no wf process is using it`;
    return { kind: "refused", conflict: { pid: 0, host: "", startedAt: "", message, unreadable: true } };
  }
  if (!provablyDead(owner, host)) {
    const message = `Lock "${path}" is held by pid ${owner.pid} on host "${owner.host}" since ${owner.started_at}`;
    return { kind: "refused", conflict: { pid: owner.pid, host: owner.host, startedAt: owner.started_at, message } };
  }
  return { kind: "dead", text, owner };
}

async function removeIfSame(path: string, text: string): Promise<void> {
  try {
    if ((await readFile(path, "utf8")) === text) await rm(path, { force: true });
  } catch (e) {
    if (code(e) !== "ENOENT") throw e;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function handle(path: string, content: string, tookOver?: { pid: number; host: string }): Lock {
  return {
    ...(tookOver ? { tookOver } : {}),
    // Only our own lock: if it was taken over, it is someone else's now.
    release: () => removeIfSame(path, content),
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
export function provablyDead(owner: LockOwner, host: string, table: ProcessTable = localProcesses): boolean {
  if (owner.host !== host) return false;
  const boot = table.bootId();
  if (owner.boot_id !== null && boot !== null && owner.boot_id !== boot) return true;
  if (!table.isAlive(owner.pid)) return true;
  const start = owner.proc_start === null ? null : table.procStart(owner.pid);
  return start !== null && start !== owner.proc_start;
}

function parseLock(text: string): LockOwner | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
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

function code(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

let counter = 0;
function uniq(): string {
  return `${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
