/**
 * `wf`'s side of the launcher (launcher.ts): starts it on the first job,
 * sends it requests, and routes its reports to the job they are about.
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";
import type { JobIdentity, JobResult, JobSpec, LauncherReport, LauncherRequest, WireEnv } from "./job.ts";
import { LAUNCHER_ARG } from "./launcher.ts";
import { selfCommand } from "./runtime.ts";

/** What the caller hears about one job. */
export interface JobHandlers {
  spawned(identity: JobIdentity): void;
  exited(result: JobResult): void;
}

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
  private readonly jobs = new Map<number, JobHandlers>();
  /** Why the launcher is gone, once it is: every job still waiting, and every later one, fails with it. */
  private broken: string | undefined;
  private errText = "";

  /** Starts a job; the handlers hear of it. Returns the job's id for stop(). */
  start(job: JobSpec, handlers: JobHandlers): number {
    const id = this.nextId++;
    this.jobs.set(id, handlers);
    this.send({ op: "start", id, job: { ...job, env: this.wireEnv(job.env) } });
    return id;
  }

  /** The journal has the job's result: its launcher need not write its status file. */
  ack(id: number): void {
    if (this.broken === undefined && this.child !== undefined) this.child.stdin?.write(`${JSON.stringify({ op: "ack", id } satisfies LauncherRequest)}\n`);
  }

  /** Ends a job's process group (SIGTERM, then SIGKILL after the grace period). */
  stop(id: number): void {
    if (this.jobs.has(id)) this.send({ op: "stop", id });
  }

  /** No more jobs: the launcher exits once the running ones have ended, and `wf` need not wait for it. */
  close(): void {
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
    if (this.broken !== undefined) return this.fail(this.broken);
    const child = this.child ?? this.launch();
    child.stdin?.write(`${JSON.stringify(request)}\n`);
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
        this.receive(JSON.parse(line) as LauncherReport);
      }
    });
    child.stderr!.setEncoding("utf8");
    child.stderr!.on("data", (chunk: string) => {
      this.errText = (this.errText + chunk).slice(-2000);
    });
    child.stdin!.on("error", () => {}); // the exit below says why
    child.on("error", (e) => this.fail(`the job launcher could not be started: ${e.message}`));
    child.on("close", (code, signal) => {
      if (this.jobs.size === 0) return;
      const said = this.errText.trim().split("\n").at(-1) ?? "";
      this.fail(`the job launcher ended (${signal ?? `exit status ${code}`})${said === "" ? "" : `: ${said}`}`);
    });
    return child;
  }

  private receive(report: LauncherReport): void {
    const handlers = this.jobs.get(report.id);
    if (handlers === undefined) return;
    if (report.ev === "spawned") handlers.spawned(report.identity);
    else {
      this.jobs.delete(report.id);
      handlers.exited(report.result);
    }
  }

  /** The launcher is gone: every job not yet ended fails with `why`. */
  private fail(why: string): void {
    this.broken ??= why;
    const waiting = [...this.jobs.values()];
    this.jobs.clear();
    for (const handlers of waiting) {
      handlers.exited({
        exit_code: null, signal: null, timed_out: false, duration_ms: 0, log_truncated: false,
        spawn_error: why, stdout_tail: "", stderr_tail: "",
      });
    }
  }
}
