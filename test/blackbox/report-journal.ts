/**
 * Journals written line by line with times the test chooses, for the
 * `wf report` and `wf show --timeline` tests and bench/report.sh: a run's
 * folder as `wf run` leaves it, without running anything.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { AppendableEvent } from "../../src/journal/events.ts";
import { encodeLine } from "../../src/journal/line.ts";

export const T0 = Date.UTC(2026, 0, 8, 2, 0, 0);

type Node = { id: string; deps?: string[] };

/** Collects events at chosen times (milliseconds after T0) and writes them as a journal, in the order of their times. */
export class JournalBuilder {
  readonly #events: { ms: number; event: AppendableEvent }[] = [];
  constructor(readonly runId: string) {
    this.#push(0, { type: "header", format: 1, writer: "wf test" } as never);
  }

  #push(ms: number, event: AppendableEvent): this {
    this.#events.push({ ms, event });
    return this;
  }

  at(ms: number, event: AppendableEvent): this {
    return this.#push(ms, event);
  }

  started(ms: number, nodes: readonly Node[], mode: "sequential" | "parallel" | "work-stealing" = "parallel", maxParallel = 4): this {
    return this.#push(ms, {
      type: "run_started", workflow: "ci", file: "/srv/ci/ci.toml", file_sha256: "0".repeat(64), tags: [],
      nodes: nodes.map((n) => ({ id: n.id, task: n.id, deps: n.deps ?? [], def_sha256: "0".repeat(64) })),
      mode, max_parallel: maxParallel, var_names: [], host: "build-01", pid: 4121, wf_version: "0.1.0", runtime: "node 20", cwd: "/srv/ci",
    });
  }

  status(ms: number, status: "running" | "resuming" | "success" | "failed" | "cancelled", more: Record<string, unknown> = {}): this {
    return this.#push(ms, { type: "run_status", status, ...more } as AppendableEvent);
  }

  /** An attempt from `from` to `to`: task_started, task_spawned, task_finished. */
  attempt(from: number, to: number, task: string, attempt: number, outcome: { state: "succeeded" | "failed"; exit?: number | null; signal?: string; timedOut?: boolean; willRetry?: boolean; error?: string; forensicFor?: string }): this {
    const forensic = outcome.forensicFor === undefined ? {} : { forensic_for: outcome.forensicFor };
    this.#push(from, { type: "task_started", task, attempt, max_attempts: 2, cmd: `run ${task}`, stdout_log: `logs/${task}.${attempt}.stdout.log`, stderr_log: `logs/${task}.${attempt}.stderr.log`, ...forensic });
    this.#push(from, { type: "task_spawned", task, attempt, pid: 5000 + attempt });
    return this.#push(to, {
      type: "task_finished", task, attempt, state: outcome.state,
      exit_code: outcome.exit === undefined ? (outcome.state === "succeeded" ? 0 : 1) : outcome.exit,
      signal: outcome.signal ?? null, timed_out: outcome.timedOut ?? false, duration_ms: to - from,
      will_retry: outcome.willRetry ?? false, ignored: false,
      ...(outcome.error === undefined ? {} : { error: outcome.error }), ...forensic,
    });
  }

  /** An attempt that was started and never finished. */
  open(from: number, task: string, attempt: number): this {
    this.#push(from, { type: "task_started", task, attempt, max_attempts: 1, cmd: `run ${task}`, stdout_log: `logs/${task}.${attempt}.stdout.log`, stderr_log: `logs/${task}.${attempt}.stderr.log` });
    return this.#push(from, { type: "task_spawned", task, attempt, pid: 6000 + attempt });
  }

  /** The journal: lines sorted by time (a stable sort: events given at one time keep their order), numbered from 0. */
  text(): string {
    const sorted = [...this.#events].sort((a, b) => a.ms - b.ms);
    return sorted.map(({ ms, event }, seq) => encodeLine({ seq, ts: new Date(T0 + ms).toISOString(), run: this.runId }, event as never)).join("");
  }

  /** Writes `<state>/runs/<id>/journal.jsonl`; returns its path. */
  async write(stateDir: string): Promise<string> {
    const dir = join(stateDir, "runs", this.runId);
    await mkdir(join(dir, "logs"), { recursive: true });
    const path = join(dir, "journal.jsonl");
    await writeFile(path, this.text());
    return path;
  }
}

/**
 * A succeeded run of `tasks` tasks in layers of 50 (each depends on one of
 * the layer before), 8 at a time; every 97th task fails once and is retried.
 * Returns the builder and the number of attempts written.
 */
export function bigRun(runId: string, tasks: number): { journal: JournalBuilder; attempts: number } {
  const width = 50;
  const nodes: Node[] = [];
  for (let i = 0; i < tasks; i++) nodes.push({ id: `t${i}`, deps: i >= width ? [`t${i - width}`] : [] });
  const j = new JournalBuilder(runId).started(0, nodes, "work-stealing", 8).status(1, "running");
  const slots = new Array<number>(8).fill(2);
  let layerEnd = 2;
  let attempts = 0;
  for (let layer = 0; layer * width < tasks; layer++) {
    slots.fill(layerEnd);
    for (let i = layer * width; i < Math.min(tasks, (layer + 1) * width); i++) {
      const slot = slots.indexOf(Math.min(...slots));
      let at = slots[slot]!;
      const ms = 40 + ((i * 37) % 160);
      if (i % 97 === 13) {
        j.attempt(at, at + ms, `t${i}`, 1, { state: "failed", exit: 1, willRetry: true, error: `exit status 1: t${i}: flaky` });
        at += ms;
        attempts++;
      }
      j.attempt(at, at + ms, `t${i}`, i % 97 === 13 ? 2 : 1, { state: "succeeded" });
      attempts++;
      slots[slot] = at + ms;
    }
    layerEnd = Math.max(...slots);
  }
  j.status(layerEnd + 1, "success");
  return { journal: j, attempts };
}
