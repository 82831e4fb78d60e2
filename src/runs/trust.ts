/**
 * Whether the state directory may be trusted, as ssh's StrictModes and git's
 * safe.directory decide: the state directory, each folder and file wf uses in
 * it, and each run's folder must be owned by the user running wf and not
 * writable by its group or others. Otherwise another local user could put a
 * run of their own where wf would resume it, and have wf run its commands
 * (as root, from cron). `WF_SHARED_STATE_DIR=1` turns the check off for a
 * directory shared on purpose (docs/cli.md, "The state directory").
 */
import { readFileSync, type Stats, statSync } from "node:fs";
import process from "node:process";
import { join } from "node:path";
import { JOURNAL_FILE } from "../journal/writer.ts";
import { SPAWN_LOG } from "../platform/job.ts";
import type { Failure } from "../util/failure.ts";
import { err, ok, type Result } from "../util/result.ts";

/** The variable that turns the check off. */
export const SHARED_STATE_ENV = "WF_SHARED_STATE_DIR";

/** What the check holds against a path. */
export interface Untrusted {
  readonly path: string;
  readonly ownerUid: number;
  readonly mode: number;
  /** Not owned by the user running wf, or writable by group or others. */
  readonly why: "owner" | "writable";
}

/** The user wf runs as, where the platform has users. */
function currentUid(): number | undefined {
  return typeof process.getuid === "function" ? process.getuid() : undefined;
}

/**
 * The user the check holds paths to: undefined where there are no users, or
 * when the caller opted out. Read from the process's environment, as the
 * opt-out holds for every run wf opens, however it got there.
 */
function checkedUid(): number | undefined {
  return process.env[SHARED_STATE_ENV] === "1" ? undefined : currentUid();
}

/** The pure rule, for one path's status: undefined when it may be trusted. */
export function judgeOwnership(path: string, st: Pick<Stats, "uid" | "mode">, uid: number): Untrusted | undefined {
  const mode = st.mode & 0o7777;
  if (st.uid !== uid) return { path, ownerUid: st.uid, mode, why: "owner" };
  if ((mode & 0o022) !== 0) return { path, ownerUid: st.uid, mode, why: "writable" };
  return undefined;
}

/** One path (followed, if a link): undefined if it is missing or may be trusted. */
function checkPath(path: string, uid: number): Untrusted | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return undefined; // Missing (wf creates it) or unreadable (the command that needs it says so).
  }
  return judgeOwnership(path, st, uid);
}

/** The failure for `u`, with the names of its owner and of the user running wf. */
function failure(u: Untrusted, uid: number): Failure {
  const who = (id: number) => {
    const name = userName(id);
    return name === undefined ? { uid: id } : { uid: id, name };
  };
  return { kind: "untrusted-state", path: u.path, owner: who(u.ownerUid), user: who(uid), mode: u.mode, why: u.why };
}

/**
 * Checks the state directory and what wf uses in it (runs/, locks/, the run
 * index), before anything is read or written.
 */
export function checkStateDir(stateDir: string): Result<void, Failure> {
  const uid = checkedUid();
  if (uid === undefined) return ok(undefined);
  for (const path of [stateDir, join(stateDir, "runs"), join(stateDir, "locks"), join(stateDir, "index.jsonl")]) {
    const bad = checkPath(path, uid);
    if (bad !== undefined) return err(failure(bad, uid));
  }
  return ok(undefined);
}

/**
 * Checks one run's folder and the files wf reads from it (its journal, the
 * workflow copy, the spawn log and the logs folder), before it is opened.
 */
export function checkRunDir(dir: string): Result<void, Failure> {
  const uid = checkedUid();
  if (uid === undefined) return ok(undefined);
  for (const path of [dir, join(dir, JOURNAL_FILE), join(dir, "workflow.toml"), join(dir, SPAWN_LOG), join(dir, "logs")]) {
    const bad = checkPath(path, uid);
    if (bad !== undefined) return err(failure(bad, uid));
  }
  return ok(undefined);
}

/** A user's name from /etc/passwd, if it is there. */
export function userName(uid: number): string | undefined {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const [name, , id] = line.split(":");
      if (id === String(uid) && name) return name;
    }
  } catch {
    // No passwd file: the uid alone.
  }
  return undefined;
}
