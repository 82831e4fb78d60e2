/**
 * `wf prune`: deletes old runs (`--older-than`, `--keep`), never an active one.
 * Each run is deleted only after taking its lock, so a resume that starts
 * meanwhile either wins the lock (and the run is kept) or waits for nothing.
 * The index keeps the deleted runs' lines (listing skips them) and is touched,
 * so no rebuild follows; `wf runs --reindex` compacts it.
 */
import { readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import type { Io } from "../platform/io.ts";
import { formatTime } from "../report/table.ts";
import { acquireLock, type LockConflict, lockHolder } from "../runs/lock.ts";
import { readRun } from "../runs/open.ts";
import { indexPath, isRunId, runDir, runPaths } from "../runs/paths.ts";
import { fsCall, type Outcome } from "../util/failure.ts";
import { err, ok } from "../util/result.ts";
import { parseDuration } from "../workflow/duration.ts";

/** `30d`, `2w`, `1d12h`, `90m`: a Go duration with days (`d`) and weeks (`w`) allowed in front. */
export function parseAge(text: string): number | undefined {
  const m = /^(?:(\d+)w)?(?:(\d+)d)?(.*)$/.exec(text);
  if (m === null) return undefined;
  const weeks = Number(m[1] ?? 0);
  const days = Number(m[2] ?? 0);
  const rest = m[3] ?? "";
  if (rest === "" && m[1] === undefined && m[2] === undefined) return undefined;
  const restMs = rest === "" ? 0 : parseDuration(rest);
  if (restMs === undefined) return undefined;
  return (weeks * 7 + days) * 86_400_000 + restMs;
}

export interface PruneOptions {
  readonly olderThanMs?: number;
  readonly keep?: number;
  readonly dryRun: boolean;
  readonly now?: number;
}

interface Candidate {
  readonly id: string;
  readonly workflow: string;
  readonly status: string;
  readonly started: number;
}

/** Pure: which runs to delete, given every run newest first. */
export function choosePrunable<T extends { started: number }>(runs: readonly T[], opts: PruneOptions, now: number): T[] {
  return runs.filter((r, i) => {
    if (opts.keep !== undefined && i < opts.keep) return false;
    if (opts.olderThanMs !== undefined && now - r.started <= opts.olderThanMs) return false;
    return true;
  });
}

async function describeRun(stateDir: string, id: string): Promise<Candidate> {
  const r = await readRun(stateDir, id, "prune");
  if (r.ok) return { id, workflow: r.value.state.started.workflow, status: r.value.state.status, started: Date.parse(r.value.state.startedAt) };
  // No journal, or one that cannot be read: its age is the folder's.
  const st = await stat(runDir(stateDir, id)).catch(() => undefined);
  return { id, workflow: "?", status: "unreadable", started: st?.mtimeMs ?? 0 };
}

export async function pruneCommand(stateDir: string, opts: PruneOptions, io: Io): Promise<Outcome> {
  const out = io.out;
  if (opts.olderThanMs === undefined && opts.keep === undefined) {
    return err({ kind: "usage", message: "Nothing to prune by: pass --older-than (e.g. 30d), --keep N, or both" });
  }
  const now = opts.now ?? Date.now();
  const ids = (await readdir(join(stateDir, "runs"), { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory() && isRunId(d.name))
    .map((d) => d.name);
  const runs: Candidate[] = [];
  for (const id of ids) runs.push(await describeRun(stateDir, id));
  runs.sort((a, b) => b.started - a.started || a.id.localeCompare(b.id));
  const verb = opts.dryRun ? "Would delete" : "Deleted";
  let deleted = 0;
  let active = 0;
  for (const r of choosePrunable(runs, opts, now)) {
    const lockPath = runPaths(stateDir, r.id).lock;
    // A run whose lock cannot be read or understood is kept: it may be active.
    const describe = (c: LockConflict) => (c.unreadable ? "its lock is unreadable" : `pid ${c.pid} on host "${c.host}"`);
    const owner = await fsCall("read the lock", lockPath, () => lockHolder(lockPath));
    if (!owner.ok) return owner;
    let refusal = owner.value === undefined ? undefined : describe(owner.value);
    if (refusal === undefined && !opts.dryRun) {
      const lock = await fsCall("take the lock", lockPath, () => acquireLock(lockPath));
      if (!lock.ok) return lock;
      if (!lock.value.ok) refusal = describe(lock.value.error);
      else {
        const removed = await fsCall("delete the run folder", runDir(stateDir, r.id), () => rm(runDir(stateDir, r.id), { recursive: true, force: true }));
        if (!removed.ok) {
          await lock.value.value.release().catch(() => {});
          return removed;
        }
      }
    }
    const what = `${r.id} (${r.workflow}, ${r.status}, started ${formatTime(new Date(r.started).toISOString())})`;
    if (refusal !== undefined) {
      active++;
      out(`Kept ${what}: it is active (${refusal})\n`);
      continue;
    }
    deleted++;
    out(`${verb} ${what}\n`);
  }
  if (deleted > 0 && !opts.dryRun) {
    const t = new Date();
    await utimes(indexPath(stateDir), t, t).catch(() => {});
  }
  const runsWord = (n: number) => `${n} run${n === 1 ? "" : "s"}`;
  const kept = active > 0 ? `; kept ${runsWord(active)} that ${active === 1 ? "is" : "are"} active` : "";
  out(`${verb} ${runsWord(deleted)} of ${runs.length}${kept}\n`);
  return ok(0);
}
