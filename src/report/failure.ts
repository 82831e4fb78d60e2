/**
 * The one place that phrases an expected failure for a person: one sentence,
 * sentence case, no trailing period, values in quotes, what could not be done,
 * then a colon and why.
 */
import type { Io } from "../platform/io.ts";
import type { RunSummary } from "../runs/open.ts";
import type { Failure, FsProblem, RunProblem } from "../util/failure.ts";
import { unreachable } from "../util/unreachable.ts";
import { inert } from "./inert.ts";

/** A file-system problem as the end of a sentence ("…: the disk is full"). */
export function describeFsProblem(problem: FsProblem): string {
  if (typeof problem === "object") return `the system reported ${problem.code}`;
  switch (problem) {
    case "missing":
      return "it does not exist";
    case "not-a-directory":
      return "a part of its path is not a folder";
    case "is-a-directory":
      return "it is a folder";
    case "permission-denied":
      return "permission denied";
    case "read-only":
      return "the file system is read-only";
    case "disk-full":
      return "the disk is full";
    case "io-error":
      return "an input/output error occurred";
    case "symbolic-link":
      return "it is a symbolic link, which wf does not follow there";
    case "name-too-long":
      return "its name is too long";
    case "exists":
      return "it already exists";
    case "too-many-open-files":
      return "too many files are open";
    case "not-empty":
      return "it is not empty";
    case "not-a-file":
      return "it is not a regular file";
    default:
      return unreachable(problem);
  }
}

/** Why a run's journal cannot be used, as the end of a sentence ("…: its journal is empty"). */
export function describeRunProblem(problem: RunProblem): string {
  switch (problem.kind) {
    case "no-journal":
      return "it has no journal";
    case "empty":
      return "its journal is empty";
    case "incomplete":
      return "its journal has no run_started line: the run was cut off while being created, before any task started";
    case "corrupt":
      return `its journal is corrupt at line ${problem.line} (byte ${problem.offset}): ${problem.reason}`;
    case "fs":
      return `its journal "${problem.path}" cannot be ${problem.writing ? "written" : "read"}: ${describeFsProblem(problem.problem)}`;
    default:
      return unreachable(problem);
  }
}

/** A damaged journal read up to its first bad line, for forensics: says so on stderr. */
export function warnDamage(run: Pick<RunSummary, "id" | "damage" | "lines">, io: Pick<Io, "err">): void {
  if (run.damage !== undefined) io.err(`warning: ${inert(describeDamage(run.id, run.damage, run.lines))}\n`);
}

/** The warning of a forensic command that read a damaged journal up to its first bad line. */
export function describeDamage(runId: string, damage: { line: number; offset: number; reason: string }, intactLines: number): string {
  return `The journal of run "${runId}" is corrupt at line ${damage.line} (byte ${damage.offset}): ${damage.reason}; what follows is read from the ${intactLines} intact line${intactLines === 1 ? "" : "s"} before it`;
}

/** The one sentence for a failure, without a newline. Diagnostics of an invalid workflow are printed before it by the caller. */
export function describeFailure(f: Failure): string {
  switch (f.kind) {
    case "usage":
      return f.message;
    case "invalid-workflow": {
      const errors = f.diagnostics.filter((d) => d.severity === "error").length;
      return `Workflow "${f.file}" is invalid: ${errors} error${errors === 1 ? "" : "s"}`;
    }
    case "workflow-not-found":
      return f.candidate === undefined
        ? `Cannot find workflow "${f.target}": no such file`
        : `Cannot find workflow "${f.target}": no such file, and no "${f.candidate}"`;
    case "workflow-unreadable":
      return typeof f.problem === "object" && "invalidUtf8At" in f.problem
        ? `Cannot read workflow "${f.file}": invalid UTF-8 at byte offset ${f.problem.invalidUtf8At}`
        : `Cannot read workflow "${f.file}": ${describeFsProblem(f.problem)}`;
    case "missing-variable": {
      const earlier = f.passedToOriginal
        ? " (it was passed with --var to the original run, and --var values are never stored)"
        : " but nothing provides it";
      return `Variable "${f.name}" is needed by ${f.tasks.map((t) => `"${t}"`).join(", ")}${earlier}: pass --var ${f.name}=VALUE`;
    }
    case "no-state-dir":
      return "Cannot find the state directory: HOME is not set; pass --state-dir or set WF_STATE_DIR";
    case "untrusted-state": {
      const person = (u: { uid: number; name?: string }) => (u.name === undefined ? `uid ${u.uid}` : `${u.name} (uid ${u.uid})`);
      const mode = f.mode.toString(8).padStart(4, "0");
      const why = f.why === "owner"
        ? `it is owned by ${person(f.owner)}, not by ${person(f.user)} who runs wf (mode ${mode})`
        : `its mode ${mode} lets group or others write to it (owner ${person(f.owner)})`;
      return `Refusing the state directory at "${f.path}": ${why}; fix its owner and mode, or set WF_SHARED_STATE_DIR=1 if it is shared on purpose`;
    }
    case "run-not-found":
      return `No run matches "${f.prefix}" in "${f.stateDir}"`;
    case "run-ambiguous": {
      const shown = f.matches.slice(0, 5).map((id) => `"${id}"`).join(", ");
      const more = f.matches.length > 5 ? ` and ${f.matches.length - 5} more` : "";
      return `Run id prefix "${f.prefix}" is ambiguous: it matches ${shown}${more}`;
    }
    case "run-unusable":
      return `Cannot ${f.action} run "${f.runId}": ${describeRunProblem(f.problem)}`;
    case "journal-corrupt":
      return `Journal "${f.path}" is corrupt at line ${f.line} (byte ${f.offset}): ${f.reason}`;
    case "run-locked":
      return `Cannot ${f.action} run "${f.runId}": it is locked by pid ${f.pid} on host "${f.host}"`;
    case "lock-unreadable":
      return `Lock "${f.path}" is unreadable: remove it if no wf process is using it`;
    case "resume-refused":
      return `Cannot resume run "${f.runId}": ${f.reason}`;
    case "run-moved-on":
      return `Cannot resume run "${f.runId}": it is no longer interrupted (it is ${f.status} now)`;
    case "no-resumable-run":
      return `No resumable run found${f.workflow === undefined ? "" : ` for workflow "${f.workflow}"`}: nothing failed, was cancelled or was interrupted`;
    case "workflow-busy": {
      const where = f.jobId !== undefined ? `(Slurm job ${f.jobId})` : `(pid ${f.pid} on host "${f.host}")`;
      if (f.runId === undefined) return `Cannot start "${f.workflow}": another run of it is active ${where}`;
      if (f.task === undefined) return `Cannot start "${f.workflow}": run "${f.runId}" of it is active ${where}`;
      return `Cannot start "${f.workflow}": run "${f.runId}" of it left task "${f.task}" running ${where}`;
    }
    case "fs":
      return `Cannot ${f.action} "${f.path}": ${describeFsProblem(f.problem)}`;
    case "output":
      return `Cannot write to ${f.stream}: ${describeFsProblem(f.problem)}`;
    case "journal-write":
      return `Cannot write journal "${f.path}": ${describeFsProblem(f.problem)}; the run stopped, and it can be resumed once the problem is fixed`;
    case "slurm-missing":
      return `Cannot run task "${f.task}" on Slurm: sbatch is not on PATH`;
    case "slurm-check":
      return `Cannot run tasks on Slurm: a first job could not write to "${f.dir}", which the compute nodes must share with this host: ${f.reason}`;
    default:
      return unreachable(f);
  }
}
