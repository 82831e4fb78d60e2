/**
 * The Go `wf`'s twelve example workflows (fixtures/wf-examples/, copied
 * unchanged) must validate and run unchanged in all three modes. One generated
 * test per example and mode: validate exits 0, the run exits as docs/compat.md
 * says, and the journal gives every node of the graph its expected final state.
 *
 * The examples sleep (about 450 s of sleeps over the 36 runs), so runs go
 * through a pool of WF_COMPAT_CONCURRENCY (default 4) concurrent runs: node:test
 * runs the tests concurrently; Deno's node:test runs them one by one, so there
 * each test also starts the next few runs ahead of time.
 *
 * Knobs: WF_CLI (see rig.ts), WF_EXAMPLES_DIR, WF_COMPAT_ONLY=name,name,
 * WF_COMPAT_MODES=sequential,parallel,work-stealing, WF_COMPAT_CONCURRENCY=N.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { repoRoot, TestRig } from "./rig.ts";
import type { JournalLine, RunResult } from "./rig.ts";

/** A node's final outcome as the journal records it. */
type FinalState = "succeeded" | "failed" | "failed-ignored" | "skipped" | "cancelled";

interface Expectation {
  /** The last `run_status` of the run. */
  status: "success" | "failed" | "cancelled";
  exitCode: number;
  /** Number of graph nodes (matrix tasks expand to one node per value). */
  nodes: number;
  /** Nodes whose final state is not `succeeded`; every other node must succeed. */
  notSucceeded: Record<string, FinalState>;
}

/** Expected outcomes; docs/compat.md explains each, with runtimes. */
const EXPECTED: Record<string, Expectation> = {
  "cicd-pipeline": { status: "success", exitCode: 0, nodes: 13, notSucceeded: {} },
  "compliance-audit": { status: "success", exitCode: 0, nodes: 12, notSucceeded: {} },
  "cost-modeling": {
    status: "success",
    exitCode: 0,
    nodes: 12,
    notSucceeded: {
      // 31 % projected increase > 15 % threshold: budget_decision = "requires_approval".
      "deploy-infrastructure": "skipped",
      // Variance is 7 % (within 10 %). Its `if` is false, so it is skipped before its
      // command (which needs the never-provided `audit_id`) is rendered.
      "alert-cost-variance": "skipped",
    },
  },
  "data-etl": { status: "success", exitCode: 0, nodes: 17, notSucceeded: {} },
  "database-backup": { status: "success", exitCode: 0, nodes: 15, notSucceeded: {} },
  "infra-provisioning": { status: "success", exitCode: 0, nodes: 14, notSucceeded: {} },
  "log-analysis": {
    status: "success",
    exitCode: 0,
    nodes: 17,
    notSucceeded: { "alert-slo-breach": "skipped" }, // slo_status is always "slo_ok".
  },
  "ml-training": { status: "success", exitCode: 0, nodes: 12, notSucceeded: {} },
  "order-processing": { status: "success", exitCode: 0, nodes: 10, notSucceeded: {} },
  "release-management": { status: "success", exitCode: 0, nodes: 17, notSucceeded: {} },
  "security-audit": { status: "success", exitCode: 0, nodes: 12, notSucceeded: {} },
  "system-maintenance": {
    status: "success",
    exitCode: 0,
    nodes: 16,
    notSucceeded: { "renew-certs": "skipped" }, // min_cert_days is always "12".
  },
};

/**
 * Examples not run, with the reason. Empty: all twelve run. Add an entry
 * (never delete the example) when one cannot run in some environment.
 */
const SKIPPED: Record<string, string> = {};

const MODES = {
  sequential: [],
  parallel: ["--parallel"],
  "work-stealing": ["--work-stealing"],
} as const satisfies Record<string, readonly string[]>;
type ModeName = keyof typeof MODES;

const examplesDir = process.env["WF_EXAMPLES_DIR"] ?? join(repoRoot(), "fixtures", "wf-examples");
const exampleFiles = readdirSync(examplesDir).filter((f) => f.endsWith(".toml")).sort();
const only = listEnv("WF_COMPAT_ONLY");
const modes = (listEnv("WF_COMPAT_MODES") ?? Object.keys(MODES)) as ModeName[];
const concurrency = Math.max(1, Number(process.env["WF_COMPAT_CONCURRENCY"] ?? 4));
const isDeno = "Deno" in globalThis;

function listEnv(name: string): string[] | undefined {
  const value = process.env[name];
  return value === undefined || value.trim() === "" ? undefined : value.split(",").map((s) => s.trim());
}

/** Everything a test checks, read before the rig's directory is removed. */
interface Outcome {
  validate: RunResult;
  run: RunResult;
  runIds: string[];
  journal: JournalLine[];
}

/** Runs one example in one mode in a fresh rig. */
async function runExample(file: string, mode: ModeName): Promise<Outcome> {
  await using rig = await TestRig.create();
  await rig.write(file, readFileSync(join(examplesDir, file), "utf8"));
  const validate = await rig.run(["validate", file]);
  const run = await rig.run(["run", file, ...MODES[mode]], { timeoutMs: 240_000 });
  const runIds = await rig.runIds();
  const journal = runIds.length === 1 ? await rig.journal(runIds[0]!) : [];
  return { validate, run, runIds, journal };
}

/** A counting semaphore: at most `limit` runs at once, whatever the test runner does. */
class Pool {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(limit: number) {
    this.#free = limit;
  }
  async use<T>(job: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((r) => this.#waiting.push(r));
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

const pool = new Pool(concurrency);
const started = new Map<string, Promise<Outcome>>();
const cases: { file: string; mode: ModeName }[] = [];

function outcome(file: string, mode: ModeName): Promise<Outcome> {
  const key = `${file} ${mode}`;
  let p = started.get(key);
  if (p === undefined) {
    p = pool.use(() => runExample(file, mode));
    p.catch(() => {}); // Reported by the test that awaits it.
    started.set(key, p);
  }
  return p;
}

/** Each node's final outcome: its last finished (not retried), skipped or cancelled line. */
function finalStates(journal: JournalLine[]): Map<string, FinalState> {
  const states = new Map<string, FinalState>();
  for (const line of journal) {
    if (line["forensic_for"] !== undefined) continue;
    const task = String(line["task"]);
    if (line.type === "task_finished" && line["will_retry"] === false) {
      states.set(task, line["state"] === "succeeded" ? "succeeded" : line["ignored"] === true ? "failed-ignored" : "failed");
    } else if (line.type === "task_skipped") {
      states.set(task, "skipped");
    } else if (line.type === "task_cancelled") {
      states.set(task, "cancelled");
    }
  }
  return states;
}

function explain(what: string, r: RunResult): string {
  return `${what}: exit ${r.code} signal ${r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

describe("Go wf examples run unchanged", { concurrency }, () => {
  test("every example has an expected outcome", () => {
    for (const file of exampleFiles) {
      const name = file.replace(/\.toml$/, "");
      assert.ok(name in EXPECTED || name in SKIPPED, `No expectation for "${file}": add it to EXPECTED or SKIPPED`);
    }
  });

  for (const file of exampleFiles) {
    const name = file.replace(/\.toml$/, "");
    if (only !== undefined && !only.includes(name)) continue;
    for (const mode of modes) {
      const index = cases.push({ file, mode }) - 1;
      const skip = SKIPPED[name];
      test(`${name} (${mode}) validates and runs as docs/compat.md expects`, { skip: skip ?? false, timeout: 600_000 }, async () => {
        const expected = EXPECTED[name];
        assert.ok(expected, `No expectation for "${name}"`);
        // Deno runs these tests one at a time: start the next runs now so the pool stays busy.
        if (isDeno) for (const c of cases.slice(index + 1, index + concurrency)) void outcome(c.file, c.mode);
        const { validate, run, runIds, journal } = await outcome(file, mode);

        assert.equal(validate.code, 0, explain("wf validate", validate));
        assert.equal(run.code, expected.exitCode, explain(`wf run ${MODES[mode].join(" ")}`, run));
        assert.equal(runIds.length, 1, `Expected exactly one run, found ${JSON.stringify(runIds)}`);

        const runStarted = journal.find((l) => l.type === "run_started");
        assert.ok(runStarted, "The journal has no run_started line");
        assert.equal(runStarted["mode"], mode);
        const nodes = runStarted["nodes"] as { id: string }[];
        assert.equal(nodes.length, expected.nodes, `Graph nodes: ${nodes.map((n) => n.id).join(", ")}`);

        const states = finalStates(journal);
        const actual: Record<string, FinalState | "no final line"> = {};
        const wanted: Record<string, FinalState> = {};
        for (const { id } of nodes) {
          actual[id] = states.get(id) ?? "no final line";
          wanted[id] = expected.notSucceeded[id] ?? "succeeded";
        }
        assert.deepEqual(actual, wanted);
        for (const id of Object.keys(expected.notSucceeded)) {
          assert.ok(nodes.some((n) => n.id === id), `Expected node "${id}" is not in the graph`);
        }

        // No failure in these runs, so no forensic task may have started.
        const forensic = journal.filter((l) => l.type === "task_started" && l["forensic_for"] !== undefined);
        assert.deepEqual(forensic.map((l) => l["task"]), []);

        const statuses = journal.filter((l) => l.type === "run_status").map((l) => l["status"]);
        assert.equal(statuses.at(-1), expected.status, `Run statuses: ${statuses.join(" -> ")}`);
        assert.equal(journal.at(-1)?.type, "run_status", "The final status is not the journal's last line");
      });
    }
  }
});
