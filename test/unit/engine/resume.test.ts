import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defSha256 } from "../../../src/engine/hashes.ts";
import { compareDefinitions, planResume, resumeVariables } from "../../../src/engine/resume.ts";
import type { Dag, NodeId } from "../../../src/graph/dag.ts";
import type { JournalRecord } from "../../../src/journal/events.ts";
import { foldJournal, type RunState } from "../../../src/journal/fold.ts";
import { dagOf } from "./fakes.ts";

const TOML = `
[tasks.lint]
cmd = "lint"
[tasks.test]
cmd = "test"
depends_on = ["lint"]
[tasks.build]
cmd = "build"
depends_on = ["test"]
[tasks.docs]
cmd = "docs"
if = 'x == "y"'
`;

/** The state of a run of `dag` in which `outcomes` happened, folded from real records. */
function stateOf(dag: Dag, outcomes: Record<string, "succeeded" | "failed" | "skipped" | "cancelled" | "interrupted">): RunState {
  const events: object[] = [
    { type: "header", format: 1, writer: "t" },
    {
      type: "run_started", workflow: "w", file: "w.toml", file_sha256: "x", tags: [], mode: "sequential", max_parallel: 1,
      var_names: [], host: "h", pid: 1, wf_version: "0", runtime: "node",
      nodes: dag.order.map((id) => ({ id, task: id, deps: [...dag.nodes.get(id)!.deps], def_sha256: defSha256(dag.nodes.get(id)!) })),
    },
  ];
  for (const [task, state] of Object.entries(outcomes)) {
    if (state === "skipped") events.push({ type: "task_skipped", task, reason: "condition is false" });
    else if (state === "cancelled") events.push({ type: "task_cancelled", task, reason: 'dependency "test" failed' });
    else if (state === "interrupted") {
      events.push({ type: "task_started", task, attempt: 1, max_attempts: 1, cmd: task, stdout_log: "o", stderr_log: "e", status_file: "s" });
    } else {
      events.push({
        type: "task_finished", task, attempt: 1, state, exit_code: state === "succeeded" ? 0 : 1, signal: null,
        timed_out: false, duration_ms: 1, will_retry: false, ignored: false,
      });
    }
  }
  if (!Object.values(outcomes).includes("interrupted")) events.push({ type: "run_status", status: "failed" });
  const records = events.map((e, seq) => ({ ...e, v: 1, seq, ts: "2026-01-01T00:00:00.000Z", run: "r", crc: "0" }) as JournalRecord);
  const folded = foldJournal(records);
  assert.ok(folded.ok);
  return folded.value;
}

describe("resume decisions", () => {
  const dag = dagOf(TOML);
  const state = stateOf(dag, { lint: "succeeded", test: "failed", build: "cancelled", docs: "skipped" });

  test("planResume() skips what succeeded or was skipped, and runs the rest with the reason", () => {
    assert.deepEqual(planResume(state, dag, []).map((e) => `${e.action} ${e.id}: ${e.why}`), [
      "skip lint: already succeeded",
      "run test: failed",
      'run build: cancelled: dependency "test" failed',
      "skip docs: already skipped: condition is false",
    ]);
  });

  test("planResume() re-runs a --from task and its descendants", () => {
    const plan = planResume(state, dag, ["lint" as NodeId]);
    assert.deepEqual(plan.filter((e) => e.action === "run").map((e) => `${e.id}: ${e.why}`), [
      "lint: named by --from, had succeeded",
      "test: a descendant of a --from task",
      "build: a descendant of a --from task",
    ]);
  });

  test("compareDefinitions() finds nothing when the file is unchanged", () => {
    assert.deepEqual(compareDefinitions(state, dag), { structural: [], changedSucceeded: [] });
  });

  test("compareDefinitions(): a removed succeeded task and changed dependencies are structural; a changed command is not", () => {
    const changed = dagOf(TOML.replace('[tasks.lint]\ncmd = "lint"', '[tasks.lint]\ncmd = "lint --strict"').replace('depends_on = ["test"]', "depends_on = []"));
    assert.deepEqual(compareDefinitions(state, changed), {
      structural: ['the dependencies of "build" changed from [test] to []'],
      changedSucceeded: ["lint"],
    });
    const renamed = dagOf(TOML.replaceAll("lint", "check"));
    assert.deepEqual(compareDefinitions(state, renamed).structural, [
      'task "lint" succeeded but is no longer in the workflow (removed or renamed)',
      'the dependencies of "test" changed from [lint] to [check]',
    ]);
  });

  test("resumeVariables() stops for a variable a task still to run needs, and warns when only ignore_failure tasks need it", () => {
    const withVar = dagOf(TOML.replace('cmd = "build"', 'cmd = "build {{.target}}"'));
    const vState = stateOf(withVar, { lint: "succeeded", test: "failed", build: "cancelled", docs: "skipped" });
    const plan = planResume(vState, withVar, []);
    assert.deepEqual(resumeVariables(vState, withVar, plan, new Set()), {
      failure: { kind: "missing-variable", name: "target", tasks: ["build"], passedToOriginal: false },
      warnings: [],
    });
    assert.deepEqual(resumeVariables(vState, withVar, plan, new Set(["target"])), { warnings: [] });
    const ignoring = dagOf(TOML.replace('cmd = "build"', 'cmd = "build {{.target}}"\nignore_failure = true'));
    const iState = stateOf(ignoring, { lint: "succeeded", test: "failed", build: "cancelled", docs: "skipped" });
    assert.deepEqual(resumeVariables(iState, ignoring, planResume(iState, ignoring, []), new Set()), {
      warnings: [{ kind: "missing-variable", name: "target", tasks: ["build"], passedToOriginal: false }],
    });
  });

  test("planResume() adopts, waits for or runs an interrupted task by what is left of its job", () => {
    const dag = dagOf(TOML);
    const st = stateOf(dag, { lint: "succeeded", test: "interrupted", build: "interrupted", docs: "interrupted" });
    const exited = { state: "exited", started: "2026-01-01T00:00:00.000Z", ended: "2026-01-01T00:00:01.000Z", exit_code: 0, signal: null, timed_out: false, duration_ms: 1000, log_truncated: false, stdout_tail: "", stderr_tail: "" } as const;
    const identity = { pid: 4242, proc_start: 7, boot_id: "b" };
    const jobs = new Map([
      ["test", { kind: "adopt", task: "test", attempt: 1, status: exited, statusPath: "s", startedMs: 0 } as const],
      ["build", { kind: "wait", task: "build", attempt: 1, identity, statusPath: "s", startedMs: 0 } as const],
      ["docs", { kind: "never-ran", task: "docs", attempt: 1, why: "no process of it was ever recorded" } as const],
    ]);
    const actions = (killOrphans: boolean) => planResume(st, dag, [], jobs, killOrphans).map((e) => `${e.action} ${e.id}: ${e.why}`);
    assert.deepEqual(actions(false).slice(1), [
      "adopt test: its job ended while no wf was running: exit status 0",
      "wait build: its job is still running as pid 4242",
      "run docs: interrupted; its command never ran: no process of it was ever recorded",
    ]);
    assert.equal(actions(true)[2], "run build: interrupted; its job, still running as pid 4242, is ended first (--kill-orphans)");
    const failed = new Map([["test", { kind: "adopt", task: "test", attempt: 1, status: { ...exited, exit_code: 2 }, statusPath: "s", startedMs: 0 } as const]]);
    assert.equal(planResume(st, dag, [], failed)[1]?.why, "its job ended while no wf was running: exit status 2; it runs again");
  });

  test("planResume() runs an attempt of unknown outcome again only if its task is resumable, or --rerun names it", () => {
    const lost = new Map([["build", { kind: "unknown", task: "build", attempt: 1, why: "its job (pid 9) ended and no status was written by its launcher or its shell" } as const]]);
    const interrupted = { lint: "succeeded", test: "succeeded", build: "interrupted", docs: "cancelled" } as const;
    const resumable = dagOf(TOML);
    const st = stateOf(resumable, interrupted);
    assert.deepEqual(planResume(st, resumable, [], lost).find((e) => e.id === "build"), {
      id: "build", action: "run", why: "interrupted; its outcome is unknown: its job (pid 9) ended and no status was written by its launcher or its shell: it runs again",
      lost: { attempt: 1, error: "its outcome is unknown: its job (pid 9) ended and no status was written by its launcher or its shell", unknown: true },
    });
    const once = dagOf(TOML.replace('cmd = "build"', 'cmd = "build"\nresumable = false'));
    assert.deepEqual(planResume(stateOf(once, interrupted), once, [], lost).find((e) => e.id === "build"), {
      id: "build", action: "stop",
      why: "its outcome is unknown: its job (pid 9) ended and no status was written by its launcher or its shell, and it has resumable = false: pass --rerun build to run it again",
    });
    assert.equal(planResume(stateOf(once, interrupted), once, [], lost, false, ["build" as NodeId]).find((e) => e.id === "build")?.action, "run");
    assert.deepEqual(planResume(stateOf(once, interrupted), once, ["build" as NodeId], lost).find((e) => e.id === "build")?.lost?.unknown, true);
  });
});
