/**
 * The only code that knows the process table: liveness, start times, the boot
 * id, a process's environment, and signals to process groups. Everything here
 * reads `/proc` or calls `process.kill`; decisions built on it (is a lock's
 * owner dead? is a task an orphan?) live elsewhere and take a ProcessTable, so
 * they can be tested with a fake one.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import process from "node:process";

/** What the decisions above this module ask of the process table. */
export interface ProcessTable {
  /** The process exists and has not exited (a zombie counts as dead). */
  isAlive(pid: number): boolean;
  /** Start time in clock ticks since boot, or null where it cannot be read. */
  procStart(pid: number): number | null;
  /** This boot's id, or null where it cannot be read. */
  bootId(): string | null;
}

/** The process exists and has not exited: a zombie (exited, not yet reaped by its parent) is dead. */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as { code?: string }).code !== "ESRCH"; // EPERM: it exists, owned by another user
  }
  return procStatFields(pid)?.[0] !== "Z";
}

/** The fields of /proc/<pid>/stat after the command name, starting with field 3. */
function procStatFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may hold spaces and parentheses: split after the last ')'.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** The process is stopped (SIGSTOP, SIGTSTP) or stopped under a tracer: it runs no code until it is continued. */
export function isStopped(pid: number): boolean {
  const state = procStatFields(pid)?.[0];
  return state === "T" || state === "t";
}

/** Start time of `pid` in clock ticks since boot (field 22 of /proc/<pid>/stat), or null where /proc is not readable. */
export function procStart(pid: number): number | null {
  const value = Number(procStatFields(pid)?.[22 - 3]);
  return Number.isFinite(value) ? value : null;
}

/** This boot's id, or null where /proc is not readable. */
export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** This machine's process table. */
export const localProcesses: ProcessTable = { isAlive, procStart, bootId };

/** True when `pid` is alive and its environment holds exactly `entry` (`NAME=value`). */
export async function hasEnvironmentEntry(pid: number, entry: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const environ = await readFile(`/proc/${pid}/environ`, "utf8");
    return environ.split("\0").includes(entry);
  } catch {
    return false; // gone meanwhile, or not ours to read
  }
}

/** How long a process group gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 3000;

/** Signals a whole process group; one that is already gone is fine. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone.
  }
}

/** Ends a process group: SIGTERM, then SIGKILL once its leader is gone or the grace period is over. */
export async function endGroup(pid: number, graceMs = KILL_GRACE_MS): Promise<void> {
  killGroup(pid, "SIGTERM");
  for (let waited = 0; waited < graceMs && isAlive(pid); waited += 50) {
    await new Promise((r) => setTimeout(r, 50));
  }
  killGroup(pid, "SIGKILL");
}
