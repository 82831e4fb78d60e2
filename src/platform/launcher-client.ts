/**
 * `wf`'s side of the launcher (launcher.ts): starts it on the first job,
 * sends it requests, and routes its reports to the job they are about.
 *
 * A launcher that dies, or that stops answering (stopped by SIGSTOP, or
 * silent to pings for PING_DEAD_MS), is gone for good: a stopped or silent one
 * is killed, and once it has been reaped (so a job it started can no longer
 * be told "go", launcher.ts) every job it had not reported ended hears lost():
 * with the identity it reported, or none when it had not reported a start.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import type { JobIdentity, JobResult, JobSpec, LauncherReport, LauncherRequest, WireEnv } from "./job.ts";
import { LAUNCHER_ARG } from "./launcher.ts";
import { isStopped } from "./process.ts";
import { selfCommand } from "./runtime.ts";

/** What the caller hears about one job. */
export interface JobHandlers {
  spawned(identity: JobIdentity): void;
  exited(result: JobResult): void;
  /** The launcher is gone before it reported the job's end: `identity` is the start it reported, if it did. */
  lost(identity: JobIdentity | undefined, why: string): void;
}

/** How often a launcher with jobs is checked (stopped?) and pinged. */
const HEALTH_MS = 1000;
/** A launcher that has not answered a ping for this long is taken for dead. */
const PING_DEAD_MS = 30_000;

export class LauncherClient {
  /**
   * `spawnLog`: the run's spawn log (job.ts). `baseEnv`: the environment most
   * jobs start from, sent once; each job then sends only what it adds.
   */
  constructor(
    private readonly spawnLog: string,
    private readonly baseEnv: Readonly<Record<string, string>>,
  ) {}

  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly jobs = new Map<number, { handlers: JobHandlers; identity?: JobIdentity }>();
  /** Why the launcher is gone, once it is. */
  private broken: string | undefined;
  /** Why this wf gave up on it (stopped, silent), when it did. */
  private givenUp: string | undefined;
  private errText = "";
  private health: ReturnType<typeof setInterval> | undefined;
  private lastPong = 0;

  /** The launcher is gone (or never started): start jobs on another one. */
  get gone(): boolean {
    return this.broken !== undefined || this.givenUp !== undefined;
  }

  /** Starts a job; the handlers hear of it. Returns the job's id for stop(). */
  start(job: JobSpec, handlers: JobHandlers): number {
    const id = this.nextId++;
    this.jobs.set(id, { handlers });
    this.send({ op: "start", id, job: { ...job, env: this.wireEnv(job.env) } });
    this.watchHealth();
    return id;
  }

  /** The journal has the job's result: its launcher need not write its status file. */
  ack(id: number): void {
    if (!this.gone && this.child !== undefined) this.child.stdin?.write(`${JSON.stringify({ op: "ack", id } satisfies LauncherRequest)}\n`);
  }

  /** Ends a job's process group (SIGTERM, then SIGKILL after the grace period). */
  stop(id: number): void {
    if (this.jobs.has(id) && !this.gone) this.send({ op: "stop", id });
  }

  /** This wf no longer trusts the launcher (it missed a deadline): it is killed, and its jobs hear lost(). */
  giveUp(why: string): void {
    if (this.gone || this.child === undefined) return;
    this.givenUp = why;
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already gone: its close says so.
    }
  }

  /** No more jobs: the launcher exits once the running ones have ended, and `wf` need not wait for it. */
  close(): void {
    this.stopHealth();
    const child = this.child;
    if (child === undefined) return;
    child.stdin?.end();
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  }

  /** What of `env` goes over the wire: the variables that differ from the base, or all of them when some base variable is left out. */
  private wireEnv(env: Readonly<Record<string, string>>): WireEnv {
    const add: Record<string, string> = {};
    let kept = 0;
    for (const [k, v] of Object.entries(env)) {
      if (this.baseEnv[k] === v) kept++;
      else add[k] = v;
    }
    return kept === Object.keys(this.baseEnv).length ? { add } : { whole: env };
  }

  private send(request: LauncherRequest): void {
    if (this.broken !== undefined) return this.couldNotStart(this.broken);
    const child = this.child ?? this.launch();
    child.stdin?.write(`${JSON.stringify(request)}\n`);
  }

  /** While jobs are out: a stopped launcher is given up at once, a silent one after PING_DEAD_MS. */
  private watchHealth(): void {
    if (this.health !== undefined) return;
    this.lastPong = Date.now();
    this.health = setInterval(() => {
      const child = this.child;
      if (this.jobs.size === 0 || child === undefined || this.gone) return this.stopHealth();
      if (child.pid !== undefined && isStopped(child.pid)) return this.giveUp(`the job launcher (pid ${child.pid}) was stopped`);
      if (Date.now() - this.lastPong > PING_DEAD_MS) return this.giveUp(`the job launcher (pid ${child.pid}) stopped answering`);
      child.stdin?.write(`${JSON.stringify({ op: "ping" } satisfies LauncherRequest)}\n`);
    }, HEALTH_MS);
    this.health.unref?.();
  }

  private stopHealth(): void {
    if (this.health !== undefined) clearInterval(this.health);
    this.health = undefined;
  }

  private launch(): ChildProcess {
    const self = selfCommand();
    const child = spawn(self.file, [...self.args, LAUNCHER_ARG, String(process.pid)], {
      // Its own session: a Ctrl-C to wf's terminal or a kill of wf's group does not reach it.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child = child;
    child.stdin!.write(`${JSON.stringify({ op: "init", spawn_log: this.spawnLog, base_env: this.baseEnv } satisfies LauncherRequest)}\n`);
    let buffered = "";
    child.stdout!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let report: LauncherReport;
        try {
          report = JSON.parse(line) as LauncherReport;
        } catch {
          continue; // not a report: a launcher cut off mid-line
        }
        this.receive(report);
      }
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      this.errText = (this.errText + chunk).slice(-2000);
    });
    child.stdin!.on("error", () => {}); // the exit below says why
    child.on("error", (e) => {
      if (child.pid === undefined) this.couldNotStart(`the job launcher could not be started: ${e.message}`);
    });
    // "close" comes once the launcher has been reaped: its jobs' shells can no longer hear "go" from it.
    child.on("close", (code, signal) => {
      this.stopHealth();
      const said = this.errText.trim().split("\n").at(-1) ?? "";
      const why = this.givenUp ?? `the job launcher ended (${signal ?? `exit status ${code}`})${said === "" ? "" : `: ${said}`}`;
      this.broken ??= why;
      const waiting = [...this.jobs.values()];
      this.jobs.clear();
      for (const job of waiting) job.handlers.lost(job.identity, why);
    });
    return child;
  }

  private receive(report: LauncherReport): void {
    if (report.ev === "pong") {
      this.lastPong = Date.now();
      return;
    }
    const job = this.jobs.get(report.id);
    if (job === undefined) return;
    if (report.ev === "spawned") {
      job.identity = report.identity;
      job.handlers.spawned(report.identity);
    } else {
      this.jobs.delete(report.id);
      job.handlers.exited(report.result);
    }
  }

  /** The launcher never ran: no job of it started, and each fails with `why`. */
  private couldNotStart(why: string): void {
    this.broken ??= why;
    const waiting = [...this.jobs.values()];
    this.jobs.clear();
    for (const { handlers } of waiting) {
      handlers.exited({
        exit_code: null, signal: null, timed_out: false, duration_ms: 0, log_truncated: false,
        spawn_error: why, stdout_tail: "", stderr_tail: "",
      });
    }
  }
}
