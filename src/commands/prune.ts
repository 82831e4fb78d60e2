/**
 * `wf prune`: deletes old runs (`--older-than`, `--keep`), never an active one
 * (runs/active.ts: a live wf, or a task a dead wf left running). Each run is
 * deleted only after taking its lock, so a resume that starts meanwhile either
 * wins the lock (and the run is kept) or waits for nothing. A run whose journal
 * cannot be read is dated by the intact part of its journal, never counts
 * toward `--keep`, and is kept unless `--include-unreadable` asks.
 * The index keeps the deleted runs' lines (listing skips them) and is touched,
 * so no rebuild follows; `wf runs --reindex` compacts it.
 */
import { rm, utimes } from "node:fs/promises";
import type { Io } from "../platform/io.ts";
import { describeFailure, describeRunProblem } from "../report/failure.ts";
import { formatTime } from "../report/table.ts";
import { type Activity, intactRecords, runActivity } from "../runs/active.ts";
import { acquireLock, type LockConflict } from "../runs/lock.ts";
import { readRun } from "../runs/open.ts";
import { indexPath, runDir, runFolderIds, runPaths } from "../runs/paths.ts";
import { type Failure, fsCall, type Outcome } from "../util/failure.ts";
import { unreachable } from "../util/unreachable.ts";
import { err, ok, type Result } from "../util/result.ts";
import { parseDuration } from "../workflow/duration.ts";
import { inert } from "../report/inert.ts";

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
  /** Also delete runs whose journal cannot be read (they never count toward `keep`). */
  readonly includeUnreadable?: boolean;
  readonly now?: number;
}

interface Candidate {
  readonly id: string;
  readonly workflow: string;
  readonly status: string;
  /** When the run started (ms); undefined for an unreadable run with no intact line to date it. */
  readonly started: number | undefined;
  /** Why the journal cannot be read: set only for an unreadable run. */
  readonly problem?: string;
}

/** Pure: which runs to delete, given every readable run newest first. */
export function choosePrunable<T extends { started: number }>(runs: readonly T[], opts: PruneOptions, now: number): T[] {
  return runs.filter((r, i) => {
    if (opts.keep !== undefined && i < opts.keep) return false;
    if (opts.olderThanMs !== undefined && now - r.started <= opts.olderThanMs) return false;
    return true;
  });
}

/**
 * Pure: whether an unreadable run goes. Only with `--include-unreadable`; and
 * with `--older-than`, only when the intact part of its journal dates it: an
 * age that cannot be told is never old enough.
 */
export function unreadablePrunable(run: { readonly started: number | undefined }, opts: PruneOptions, now: number): boolean {
  if (opts.includeUnreadable !== true) return false;
  if (opts.olderThanMs === undefined) return true;
  return run.started !== undefined && now - run.started > opts.olderThanMs;
}

/** Pure: a date from the journal, or undefined for one that is missing or not a time. */
function timeOf(ts: string | undefined): number | undefined {
  const t = ts === undefined ? NaN : Date.parse(ts);
  return Number.isNaN(t) ? undefined : t;
}

async function describeRun(stateDir: string, id: string): Promise<Candidate> {
  const r = await readRun(stateDir, id, "prune", { keepRecords: false });
  if (r.ok) {
    const s = r.value.state;
    return { id, workflow: s.started.workflow, status: s.status, started: timeOf(s.startedAt) ?? 0 };
  }
  // Dated by the intact part of its journal (run_started, else the header), never by its folder.
  const records = await intactRecords(stateDir, id);
  const started = records.find((x) => x.type === "run_started");
  const workflow = started?.type === "run_started" ? started.workflow : "?";
  return { id, workflow, status: "unreadable", started: timeOf(started?.ts ?? records[0]?.ts), problem: why(r.error) };
}

/** Why a run cannot be read, as the end of a `Kept ...:` line. */
function why(f: Failure): string {
  return f.kind === "run-unusable" ? describeRunProblem(f.problem) : describeFailure(f);
}

/** Why an active run is kept, as the end of a `Kept ...:` line. */
function activeReason(a: Activity | LockConflict): string {
  if (!("kind" in a)) return a.unreadable ? "it is active (its lock is unreadable)" : `it is active (pid ${a.pid} on host "${a.host}")`;
  switch (a.kind) {
    case "wf":
      return `it is active (pid ${a.pid} on host "${a.host}")`;
    case "task":
      return `it left task "${a.task}" running (pid ${a.pid} on host "${a.host}")`;
    case "lock-unreadable":
      return "it is active (its lock is unreadable)";
    default:
      return unreachable(a);
  }
}

export async function pruneCommand(stateDir: string, opts: PruneOptions, io: Io): Promise<Outcome> {
  // Workflow names and the problems of unreadable runs come from files: shown inert.
  const out = (text: string) => io.out(inert(text));
  if (opts.olderThanMs === undefined && opts.keep === undefined) {
    return err({ kind: "usage", message: "Nothing to prune by: pass --older-than (e.g. 30d), --keep N, or both" });
  }
  const now = opts.now ?? Date.now();
  const ids = await runFolderIds(stateDir);
  const runs: Candidate[] = [];
  for (const id of ids) runs.push(await describeRun(stateDir, id));
  // Newest first; an unreadable run with no date last.
  runs.sort((a, b) => (b.started ?? -Infinity) - (a.started ?? -Infinity) || a.id.localeCompare(b.id));
  const readable = runs.filter((r): r is Candidate & { started: number } => r.problem === undefined && r.started !== undefined);
  const chosen = new Set<Candidate>(choosePrunable(readable, opts, now));
  for (const r of runs) if (r.problem !== undefined && unreadablePrunable(r, opts, now)) chosen.add(r);
  const verb = opts.dryRun ? "Would delete" : "Deleted";
  let deleted = 0;
  let active = 0;
  let unreadable = 0;
  for (const r of runs) {
    const what = `${r.id} (${r.workflow}, ${r.status}, started ${r.started === undefined ? "at an unknown time" : formatTime(new Date(r.started).toISOString())})`;
    if (!chosen.has(r)) {
      // Kept for being unreadable (not for its age, which goes as for any run): say why.
      if (r.problem !== undefined && (opts.includeUnreadable !== true || r.started === undefined)) {
        unreadable++;
        out(`Kept ${what}: ${r.problem}\n`);
      }
      continue;
    }
    const gone = await deleteRun(stateDir, r.id, opts.dryRun);
    if (!gone.ok) return gone;
    if (gone.value !== undefined) {
      active++;
      out(`Kept ${what}: ${activeReason(gone.value)}\n`);
      continue;
    }
    deleted++;
    out(`${verb} ${what}\n`);
  }
  if (deleted > 0 && !opts.dryRun) {
    const t = new Date();
    await utimes(indexPath(stateDir), t, t).catch(() => {});
  }
  out(`${verb} ${runsWord(deleted)} of ${runs.length}${keptSummary(active, unreadable, opts.includeUnreadable === true)}\n`);
  return ok(0);
}

const runsWord = (n: number) => `${n} run${n === 1 ? "" : "s"}`;

/** The end of prune's last line: what was kept though chosen (active), and the unreadable runs kept. */
function keptSummary(active: number, unreadable: number, included: boolean): string {
  const parts: string[] = [];
  if (active > 0) parts.push(`${runsWord(active)} that ${active === 1 ? "is" : "are"} active`);
  if (unreadable > 0) {
    const hint = included ? "" : ` (pass --include-unreadable to delete ${unreadable === 1 ? "it" : "them"})`;
    parts.push(`${unreadable} unreadable run${unreadable === 1 ? "" : "s"}${hint}`);
  }
  return parts.length === 0 ? "" : `; kept ${parts.join(" and ")}`;
}

/**
 * Deletes one run unless it is active: its wf is alive, or a task it left
 * running is (runs/active.ts). The run's lock is taken first, so a resume
 * starting meanwhile wins and the run stays. Returns why it was kept, if it was.
 */
async function deleteRun(stateDir: string, id: string, dryRun: boolean): Promise<Result<Activity | LockConflict | undefined, Failure>> {
  const activity = await runActivity(stateDir, id);
  if (!activity.ok || activity.value !== undefined || dryRun) return activity;
  const lockPath = runPaths(stateDir, id).lock;
  const lock = await fsCall("take the lock", lockPath, () => acquireLock(lockPath));
  if (!lock.ok) return lock;
  if (!lock.value.ok) return ok(lock.value.error);
  const dir = runDir(stateDir, id);
  const removed = await fsCall("delete the run folder", dir, () => rm(dir, { recursive: true, force: true }));
  if (!removed.ok) {
    await lock.value.value.release().catch(() => {});
    return removed;
  }
  return ok(undefined);
}
