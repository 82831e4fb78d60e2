/** In-memory stand-ins for the engine's I/O: a spawner whose attempts end when the test says, and a journal. */
import { describeFailure } from "../../../src/report/failure.ts";
import type { AttemptResult, AttemptSpec, Spawner } from "../../../src/engine/spawner.ts";
import { execute, type ExecuteOptions, type Outcome, type PriorState } from "../../../src/engine/execute.ts";
import type { Dag } from "../../../src/graph/dag.ts";
import type { AppendableEvent, JournalRecord } from "../../../src/journal/events.ts";
import type { Reporter } from "../../../src/report/reporter.ts";
import { JournalWriteError } from "../../../src/journal/writer.ts";
import type { Failure } from "../../../src/util/failure.ts";
import type { Result } from "../../../src/util/result.ts";
import { validateWorkflow } from "../../../src/commands/load.ts";

export function dagOf(toml: string): Dag {
  const result = validateWorkflow("test.toml", toml);
  if (result.dag === undefined) throw new Error(`Invalid test workflow: ${JSON.stringify(result.diagnostics)}`);
  return result.dag;
}

export const OK: Partial<AttemptResult> = { exitCode: 0 };

interface Pending {
  readonly task: string;
  readonly spec: AttemptSpec;
  readonly resolve: (r: AttemptResult) => void;
}

/**
 * A spawner whose attempts end with their scripted results, or, when `manual`,
 * wait for `end(task, result)`; otherwise they succeed at once.
 */
export class FakeSpawner implements Spawner {
  constructor(private readonly manual: boolean) {}

  readonly pending: Pending[] = [];
  readonly log: string[] = [];
  readonly specs: AttemptSpec[] = [];
  /** Results given ahead of time: the attempt ends as soon as it starts. */
  readonly scripted = new Map<string, Partial<AttemptResult>[]>();

  run(spec: AttemptSpec, abort: AbortSignal): Promise<AttemptResult> {
    const task = spec.env["WF_TASK_ID"]!;
    this.log.push(`start:${task}`);
    this.specs.push(spec);
    return new Promise((resolve) => {
      const done = (partial: Partial<AttemptResult>) => {
        this.log.push(`end:${task}`);
        resolve({
          exitCode: 0, signal: null, timedOut: false, durationMs: 1, lastStdoutLine: "", stderrTail: "",
          logTruncated: false, ...partial,
        });
      };
      const script = this.scripted.get(task);
      if (script !== undefined && script.length > 0) return done(script.shift()!);
      if (!this.manual) return done(OK);
      const entry: Pending = { task, spec, resolve: done };
      abort.addEventListener(
        "abort",
        () => {
          const i = this.pending.indexOf(entry);
          if (i >= 0) this.pending.splice(i, 1);
          done({ exitCode: null, signal: "SIGTERM" });
        },
        { once: true },
      );
      this.pending.push(entry);
    });
  }

  running(): string[] {
    return this.pending.map((p) => p.task);
  }

  /** Ends the running attempt of `task`. */
  end(task: string, result: Partial<AttemptResult> = OK): void {
    const i = this.pending.findIndex((p) => p.task === task);
    if (i < 0) throw new Error(`"${task}" is not running (running: ${this.running().join(", ")})`);
    this.pending.splice(i, 1)[0]!.resolve(result as AttemptResult);
  }
}

export class MemoryJournal {
  readonly records: JournalRecord[] = [];
  /** When set, appends of these event types fail as a full disk would, and so does every append after. */
  failOn: ReadonlySet<string> = new Set();
  #failed = false;
  append(event: AppendableEvent): Promise<JournalRecord> {
    if (this.#failed || this.failOn.has(event.type)) {
      this.#failed = true;
      return Promise.reject(new JournalWriteError("/tmp/run/journal.jsonl", "disk-full"));
    }
    const record = { ...event, v: 1, seq: this.records.length + 1, ts: new Date().toISOString(), run: "testrun", crc: "00000000" } as JournalRecord;
    this.records.push(record);
    return Promise.resolve(record);
  }
  /** Compact `type:task` strings, for order assertions. */
  get trail(): string[] {
    return this.records.map((r) => ("task" in r ? `${r.type}:${r.task}` : r.type));
  }
}

export const silentReporter: Reporter = { record() {}, output() {}, warn() {}, problem() {}, close() {} };

/** Lets pending promise callbacks run until nothing more changes. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

export function start(
  dag: Dag,
  opts: Partial<ExecuteOptions> & { manual?: boolean; journalFailsOn?: readonly string[] } = {},
  prior?: PriorState,
): {
  spawner: FakeSpawner;
  journal: MemoryJournal;
  /** The outcome; rejects if the run stopped on a failure. */
  done: Promise<Outcome>;
  /** The outcome or the failure that stopped the run. */
  result: Promise<Result<Outcome, Failure>>;
  abort: AbortController;
  sleeps: number[];
  /** What the engine told the reporter with warn(). */
  warnings: string[];
} {
  const spawner = new FakeSpawner(opts.manual ?? false);
  const journal = new MemoryJournal();
  journal.failOn = new Set(opts.journalFailsOn ?? []);
  const abort = new AbortController();
  const sleeps: number[] = [];
  const warnings: string[] = [];
  const reporter: Reporter = {
    ...silentReporter,
    warn: (message) => warnings.push(message),
    problem: (failure) => warnings.push(describeFailure(failure)),
  };
  const result = execute(
    dag,
    {
      mode: "sequential", maxParallel: 4, keepGoing: false, cliVars: {}, printOutput: false, cwd: "/tmp",
      baseEnv: { PATH: "/usr/bin:/bin", SECRET: "x" }, logCapBytes: 1024, ...withoutFakeOptions(opts),
    },
    {
      runId: "testrun", runDir: "/tmp/run", journal, spawner, reporter, abort: abort.signal,
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    },
    prior,
  );
  const done = result.then((r) => {
    if (!r.ok) throw new Error(`The run stopped: ${JSON.stringify(r.error)}`);
    return r.value;
  });
  done.catch(() => {}); // a test of a failure awaits `result` instead
  return { spawner, journal, done, result, abort, sleeps, warnings };
}

function withoutFakeOptions(opts: Partial<ExecuteOptions> & { manual?: boolean; journalFailsOn?: readonly string[] }): Partial<ExecuteOptions> {
  const { manual: _manual, journalFailsOn: _journalFailsOn, ...rest } = opts;
  return rest;
}
