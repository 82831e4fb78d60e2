/**
 * The local executor: each attempt is a detached job of a launcher
 * (platform/launcher.ts), `/bin/sh -c <cmd>` in its own process group,
 * writing its own log files and a status file that outlive `wf`.
 *
 * While its launcher reports, the launcher keeps the job's timeout and stop.
 * Once the launcher is gone (died, stopped, silent, or missed the timeout),
 * the job is recognised by pid, process start time and boot id, and looked
 * at on every poll: its status file, its shell's exit line in the spawn log,
 * the process table (runs/verdict.ts's judgeJob). A pid without its start
 * time and boot id is never waited on or killed.
 */
import { availableParallelism } from "node:os";
import { basename, dirname } from "node:path";
import { type AttemptEvent, type Observation, observation } from "../../runs/attempt.ts";
import { isSameJob, writerAlive } from "../../runs/jobs.ts";
import { judgeJob, trusted } from "../../runs/verdict.ts";
import type { ExitRecord, JobIdentity, SpawnRecord, StatusOwner } from "../../platform/job.ts";
import { readSpawnLog, readStatusFile, statusBelongsTo } from "../../platform/job.ts";
import { LauncherClient } from "../../platform/launcher-client.ts";
import { endGroup, KILL_GRACE_MS, killGroup, localProcesses } from "../../platform/process.ts";
import type { AttemptSpec, Reattach } from "../spawner.ts";
import type { Executor } from "./executor.ts";

export interface LocalJob {
  readonly statusPath: string;
  readonly owner?: StatusOwner;
  /** The launcher that reports on it, while one does, and its id there. */
  launcher?: LauncherClient;
  id: number;
  /** Who it is, once its launcher or the spawn log said. */
  identity?: JobIdentity;
  /** Its launcher reported its end (and will write its status file unless acknowledged). */
  exited: boolean;
}

/**
 * Launchers per execution. Starting a process blocks the launcher's one
 * thread for the fork and exec, so two launchers start jobs on two cores at
 * once; each is started on its first job, and one that is gone (died,
 * stopped) is replaced for the jobs that start after.
 */
const LAUNCHERS = Math.max(1, Math.min(2, availableParallelism()));
/** A task timeout the launcher has not enforced this long after its grace period: wf gives up on the launcher and ends the job itself. */
const BACKSTOP_MS = 2000;
/** A job of an earlier execution gone without a final status gets this long for its launcher to write one. */
const STATUS_GRACE_MS = 2000;

export class LocalExecutor implements Executor<LocalJob> {
  private readonly launchers: LauncherClient[];
  private nextLauncher = 0;
  /** Process groups of jobs that run (trusted identities only). */
  private readonly live = new Set<number>();
  private readonly runDir: string;

  /**
   * `spawnLog`: the run's spawn log, where the launcher records each job it
   * starts. `baseEnv`: the environment most attempts start from (the engine's
   * base environment), sent to the launcher once.
   */
  constructor(
    private readonly spawnLog: string,
    private readonly baseEnv: Readonly<Record<string, string>>,
  ) {
    this.runDir = dirname(spawnLog);
    this.launchers = Array.from({ length: LAUNCHERS }, () => new LauncherClient(spawnLog, baseEnv));
  }

  rules(adopted: boolean) {
    // A job whose launcher died in this run left its shell's exit line before it went: no grace.
    return { deadlineFrom: "start" as const, graceMs: adopted ? STATUS_GRACE_MS : 0, backstopMs: KILL_GRACE_MS + BACKSTOP_MS };
  }

  /** The next launcher in turn; one that is gone is replaced by a new one. */
  private launcher(): LauncherClient {
    const i = this.nextLauncher++ % this.launchers.length;
    if (this.launchers[i]!.gone) this.launchers[i] = new LauncherClient(this.spawnLog, this.baseEnv);
    return this.launchers[i]!;
  }

  start(spec: AttemptSpec, report: (event: AttemptEvent) => void): LocalJob {
    const launcher = this.launcher();
    const job: LocalJob = { statusPath: spec.statusPath, owner: spec.owner, launcher, id: 0, exited: false };
    const requested = Date.now();
    const known = (identity: JobIdentity) => {
      if (job.identity !== undefined) return;
      job.identity = identity;
      if (trusted(identity)) this.live.add(identity.pid);
      spec.onSpawn?.(identity);
    };
    job.id = launcher.start(
      {
        cmd: spec.cmd, cwd: spec.cwd, env: spec.env, stdout: spec.stdoutPath, stderr: spec.stderrPath,
        status: spec.statusPath, cap: spec.logCapBytes, owner: spec.owner,
        ...(spec.timeoutMs === undefined ? {} : { timeout_ms: spec.timeoutMs }),
      },
      {
        spawned: (identity) => {
          known(identity);
          const now = Date.now();
          report({ type: "started", now, startedMs: now, by: "executor" });
        },
        exited: (result) => {
          job.exited = true;
          report({ type: "exited", result });
        },
        lost: (identity) => {
          job.launcher = undefined;
          // A launcher killed before it reported the start may still have recorded it.
          const record = identity === undefined ? this.spawnRecord(spec.statusPath) : undefined;
          const found = identity ?? (record === undefined ? undefined : { pid: record.pid, proc_start: record.proc_start, boot_id: record.boot_id });
          const now = Date.now();
          // Never recorded: its shell, if any, heard no "go" and will not run the command.
          if (found === undefined) return report({ type: "executor-lost", now });
          known(found);
          report({ type: "executor-lost", now, startedMs: record === undefined ? requested : Date.parse(record.started) });
        },
      },
    );
    return job;
  }

  adopt(job: Reattach): LocalJob {
    if (trusted(job.identity)) this.live.add(job.identity.pid);
    return { statusPath: job.statusPath, ...(job.owner === undefined ? {} : { owner: job.owner }), id: 0, identity: job.identity, exited: false };
  }

  /** The run's spawn log's record of the job whose status file is `statusPath`, if its launcher wrote one. */
  private spawnRecord(statusPath: string): SpawnRecord | undefined {
    const name = basename(statusPath);
    return readSpawnLog(this.runDir)?.jobs.findLast((r) => r.status === name);
  }

  observe(job: LocalJob): Observation {
    const name = basename(job.statusPath);
    const file = readStatusFile(job.statusPath);
    const status = file !== undefined && (job.owner === undefined || statusBelongsTo(file, job.owner)) ? file : undefined;
    const identity = job.identity;
    const alive = status === undefined && identity !== undefined && trusted(identity) && isSameJob(identity, localProcesses);
    let exit: ExitRecord | undefined;
    let writerBusy = false;
    // Read after the process table: a job's shell writes its exit line before it goes.
    if (status === undefined && !alive) {
      const log = readSpawnLog(this.runDir);
      exit = log?.exits.get(name);
      writerBusy = log !== undefined && writerAlive(log, name, localProcesses);
    }
    return observation(judgeJob({
      ...(status === undefined ? {} : { status }), ...(exit === undefined ? {} : { exit }), ...(identity === undefined ? {} : { identity }), alive, writerBusy,
    }));
  }

  end(job: LocalJob): void {
    // Requests are read in order: a stop sent before the job was spawned reaches it once it is.
    if (job.launcher !== undefined && !job.launcher.gone) return job.launcher.stop(job.id);
    const identity = job.identity;
    // Only the very job: a pid that may have been reused is never signalled.
    if (identity !== undefined && trusted(identity) && isSameJob(identity, localProcesses)) void endGroup(identity.pid);
  }

  giveUp(job: LocalJob, why: string): void {
    job.launcher?.giveUp(`the job launcher ${why} (task "${job.owner?.node ?? basename(job.statusPath)}")`);
  }

  journaled(job: LocalJob): void {
    if (job.exited) job.launcher?.ack(job.id);
  }

  forget(job: LocalJob): void {
    if (job.identity !== undefined) this.live.delete(job.identity.pid);
  }

  killAll(): void {
    for (const pid of this.live) killGroup(pid, "SIGKILL");
  }

  close(): void {
    for (const launcher of this.launchers) launcher.close();
  }
}
