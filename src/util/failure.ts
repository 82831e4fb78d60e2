/**
 * Expected failures: one union, returned as values (see result.ts), rendered
 * into one sentence by report/failure.ts and mapped to an exit code by
 * exitCodeOf() below. A throw anywhere else means a bug, and only a bug
 * prints "Internal error".
 *
 * File-system errors are translated into FsProblem where the call is made
 * (fsProblem below), so no raw errno text or stack reaches the user.
 */
import type { Diagnostic } from "./result.ts";
import { unreachable } from "./unreachable.ts";

/** What went wrong with a file or folder, in words a user can act on. */
export type FsProblem =
  | "missing"
  | "not-a-directory"
  | "is-a-directory"
  | "permission-denied"
  | "read-only"
  | "disk-full"
  | "io-error"
  | "symbolic-link"
  | "name-too-long"
  | "exists"
  | "too-many-open-files"
  | "not-empty"
  /** A device, pipe or socket where wf would write a regular file. */
  | "not-a-file"
  | { readonly code: string };

/** What a command was doing with a run when it failed: the verb of "Cannot <action> run ...". */
export type RunAction = "resume" | "show" | "read" | "follow" | "export" | "diff" | "graph" | "verify" | "prune" | "report";

/** Why a run's journal cannot be used. */
export type RunProblem =
  | { readonly kind: "no-journal" }
  | { readonly kind: "empty" }
  /** Header but no run_started line: cut off while being created. */
  | { readonly kind: "incomplete" }
  | { readonly kind: "corrupt"; readonly line: number; readonly offset: number; readonly reason: string }
  | { readonly kind: "fs"; readonly path: string; readonly problem: FsProblem; readonly writing?: true };

export type Failure =
  /** A flag, argument or command line that cannot be used (exit 2). */
  | { readonly kind: "usage"; readonly message: string }
  /** A workflow file with problems, each located (exit 2). */
  | {
      readonly kind: "invalid-workflow";
      readonly file: string;
      readonly diagnostics: readonly Diagnostic[];
      readonly sources: ReadonlyMap<string, string>;
    }
  /** No workflow file at the path, nor under that name in the workflows folder (exit 2). */
  | { readonly kind: "workflow-not-found"; readonly target: string; readonly candidate?: string }
  /** A workflow file that cannot be read, or is not UTF-8 (exit 2). */
  | { readonly kind: "workflow-unreadable"; readonly file: string; readonly problem: FsProblem | { readonly invalidUtf8At: number } }
  /** A variable some task needs and nothing provides (exit 2). */
  | {
      readonly kind: "missing-variable";
      readonly name: string;
      readonly tasks: readonly string[];
      /** It was passed with --var to the original run, whose values are never stored. */
      readonly passedToOriginal: boolean;
    }
  /** No state directory can be found (exit 2). */
  | { readonly kind: "no-state-dir" }
  /**
   * The state directory, a folder or file wf uses in it, or a run's folder is owned by another
   * user or writable by group or others (exit 2): runs/trust.ts.
   */
  | {
      readonly kind: "untrusted-state";
      readonly path: string;
      readonly owner: { readonly uid: number; readonly name?: string };
      readonly user: { readonly uid: number; readonly name?: string };
      readonly mode: number;
      readonly why: "owner" | "writable";
    }
  /** No run, or more than one, matches what was typed (exit 2). */
  | { readonly kind: "run-not-found"; readonly prefix: string; readonly stateDir: string }
  | { readonly kind: "run-ambiguous"; readonly prefix: string; readonly matches: readonly string[] }
  /** A run's journal cannot be read, is empty or is damaged (exit 3 for resume, else 1). */
  | { readonly kind: "run-unusable"; readonly action: RunAction; readonly runId: string; readonly problem: RunProblem }
  /** `wf verify` of a journal file found it corrupt (exit 1). */
  | { readonly kind: "journal-corrupt"; readonly path: string; readonly line: number; readonly offset: number; readonly reason: string }
  /** A live process holds the run's lock (exit 3). */
  | { readonly kind: "run-locked"; readonly action: RunAction; readonly runId: string; readonly pid: number; readonly host: string }
  /** A lock file that cannot be understood: never broken silently (exit 3). */
  | { readonly kind: "lock-unreadable"; readonly path: string }
  /** The run exists but resume will not run it, and `reason` says why (exit 3). */
  | { readonly kind: "resume-refused"; readonly runId: string; readonly reason: string }
  /** `wf resume --all-interrupted` took a run's lock and found it no longer interrupted: another wf resumed it meanwhile (exit 3). */
  | { readonly kind: "run-moved-on"; readonly runId: string; readonly status: string }
  /** `wf resume` without an id found nothing to resume (exit 3). */
  | { readonly kind: "no-resumable-run"; readonly workflow?: string }
  /**
   * `--exclusive`: another run of the workflow is active (exit 3): its wf (`pid`), or, when
   * `task` is set, a task its dead wf left running (`pid` is the task's). No `runId`: another
   * `--exclusive` start holds the workflow's lock.
   */
  | {
      readonly kind: "workflow-busy";
      readonly workflow: string;
      readonly runId?: string;
      readonly task?: string;
      readonly pid: number;
      readonly host: string;
      /** The task left running is a Slurm job: named by its id, not a pid. */
      readonly jobId?: string;
    }
  /** A file or folder could not be read or written (exit 1). */
  | { readonly kind: "fs"; readonly action: string; readonly path: string; readonly problem: FsProblem }
  /**
   * Writing to stdout or stderr failed (a full disk, an I/O error, a file too large): exit 1. A reader
   * that stopped reading (EPIPE, `| head`) is not one: that output is dropped quietly.
   */
  | { readonly kind: "output"; readonly stream: "stdout" | "stderr"; readonly problem: FsProblem }
  /** Writing or syncing the journal failed mid-run: the run stopped (exit 1). */
  | { readonly kind: "journal-write"; readonly path: string; readonly problem: FsProblem }
  /** A task would run on Slurm and `sbatch` is not on PATH (exit 2). */
  | { readonly kind: "slurm-missing"; readonly task: string }
  /**
   * The check job that must show the compute nodes see the run's folder failed (exit 1):
   * `reason` says how (sbatch refused it, it ended without writing, it did not end in time).
   */
  | { readonly kind: "slurm-check"; readonly dir: string; readonly reason: string };

/** The exit code for a failure: 2 bad usage or input, 3 locked or refused, 1 anything else (README.md, "Exit codes"). */
export function exitCodeOf(failure: Failure): 1 | 2 | 3 {
  switch (failure.kind) {
    case "usage":
    case "invalid-workflow":
    case "workflow-not-found":
    case "workflow-unreadable":
    case "missing-variable":
    case "no-state-dir":
    case "untrusted-state":
    case "run-not-found":
    case "run-ambiguous":
    case "slurm-missing":
      return 2;
    case "run-unusable":
      return failure.action === "resume" ? 3 : 1;
    case "run-locked":
    case "lock-unreadable":
    case "resume-refused":
    case "run-moved-on":
    case "no-resumable-run":
    case "workflow-busy":
      return 3;
    case "fs":
    case "output":
    case "journal-write":
    case "journal-corrupt":
    case "slurm-check":
      return 1;
    default:
      return unreachable(failure);
  }
}

const PROBLEM_NAMES: ReadonlySet<string> = new Set([
  "missing", "not-a-directory", "is-a-directory", "permission-denied", "read-only", "disk-full",
  "io-error", "symbolic-link", "name-too-long", "exists", "too-many-open-files", "not-empty", "not-a-file",
]);

/** An FsProblem as one word (for the journal and the launcher's reports): its name, or the errno code. */
export function problemName(problem: FsProblem): string {
  return typeof problem === "object" ? problem.code : problem;
}

/** The FsProblem a word from problemName() stands for. */
export function problemFromName(name: string): FsProblem {
  return PROBLEM_NAMES.has(name) ? (name as FsProblem) : { code: name };
}

/** Translates an error thrown by a file-system call into an FsProblem; undefined when it is not one (a bug). */
export function fsProblem(e: unknown): FsProblem | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== "string") return undefined;
  switch (code) {
    case "ENOENT":
      return "missing";
    case "ENOTDIR":
      return "not-a-directory";
    case "EISDIR":
      return "is-a-directory";
    case "EACCES":
    case "EPERM":
      return "permission-denied";
    case "EROFS":
      return "read-only";
    case "ENOSPC":
    case "EDQUOT":
      return "disk-full";
    case "EIO":
      return "io-error";
    case "ELOOP":
      return "symbolic-link";
    case "ENAMETOOLONG":
      return "name-too-long";
    case "EEXIST":
      return "exists";
    case "EMFILE":
    case "ENFILE":
      return "too-many-open-files";
    case "ENOTEMPTY":
      return "not-empty";
    default:
      return /^E[A-Z0-9]+$/.test(code) ? { code } : undefined;
  }
}

/** What a command returns: its exit code, or the failure that stopped it. */
export type Outcome = { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: Failure };

/**
 * Runs one file-system call; an errno error becomes an `fs` failure naming
 * what was being done and to which path. Anything else is a bug and is thrown on.
 */
export async function fsCall<T>(action: string, path: string, call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Failure }> {
  try {
    return { ok: true, value: await call() };
  } catch (e) {
    const problem = fsProblem(e);
    if (problem === undefined) throw e;
    return { ok: false, error: { kind: "fs", action, path, problem } };
  }
}
