import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { findSbatch, isActive, jobScript, parseStates, submitArgs } from "../../../src/platform/slurm.ts";
import { checkSbatch } from "../../../src/commands/slurm-check.ts";
import { describeFailure } from "../../../src/report/failure.ts";
import { exitCodeOf } from "../../../src/util/failure.ts";

test("findSbatch finds an executable sbatch on PATH, and checkSbatch refuses without one, exit 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "wf-sbatch-"));
  try {
    assert.equal(findSbatch(`/nonexistent:${dir}`), undefined);
    writeFileSync(join(dir, "sbatch"), "#!/bin/sh\n");
    assert.equal(findSbatch(`/nonexistent:${dir}`), undefined, "not executable");
    chmodSync(join(dir, "sbatch"), 0o755);
    assert.equal(findSbatch(`/nonexistent:${dir}`), join(dir, "sbatch"));
    assert.deepEqual(checkSbatch("train", { PATH: dir }), { ok: true, value: undefined });
    const missing = checkSbatch("train", { PATH: "/nonexistent" });
    assert.ok(!missing.ok);
    assert.equal(describeFailure(missing.error), 'Cannot run task "train" on Slurm: sbatch is not on PATH');
    assert.equal(exitCodeOf(missing.error), 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the job script runs the command as written, keeps its exit status, and writes a status file with the job id", () => {
  const dir = mkdtempSync(join(tmpdir(), "wf-jobscript-"));
  try {
    const status = join(dir, "it's.status");
    writeFileSync(join(dir, "job.sh"), jobScript(`printf '%s\\n' "it's $WF_X"; exit 3`, status));
    let code = 0;
    let out = "";
    try {
      out = execFileSync("/bin/sh", [join(dir, "job.sh")], { env: { PATH: process.env["PATH"] ?? "", WF_X: "x", SLURM_JOB_ID: "42" }, encoding: "utf8" });
    } catch (e) {
      code = (e as { status: number }).status;
      out = String((e as { stdout: unknown }).stdout);
    }
    assert.equal(code, 3);
    assert.equal(out, "it's x\n");
    const written = JSON.parse(readFileSync(status, "utf8")) as Record<string, unknown>;
    assert.equal(written["state"], "exited");
    assert.equal(written["exit_code"], 3);
    assert.equal(written["job_id"], "42");
    assert.equal(written["timed_out"], false);
    assert.ok(Number.isInteger(written["duration_ms"]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the job script's status file names its run, node and attempt, whatever characters the node holds", () => {
  const dir = mkdtempSync(join(tmpdir(), "wf-jobscript-"));
  try {
    const status = join(dir, "x.status");
    const owner = { run: "r1", node: `t[a="1,b=2",v="it's %s \\ $HOME \`id\` 日本"]`, attempt: 2 };
    writeFileSync(join(dir, "job.sh"), jobScript("exit 0", status, owner));
    execFileSync("/bin/sh", [join(dir, "job.sh")], { env: { PATH: process.env["PATH"] ?? "", SLURM_JOB_ID: "7" } });
    const written = JSON.parse(readFileSync(status, "utf8")) as Record<string, unknown>;
    assert.deepEqual([written["run"], written["node"], written["attempt"], written["exit_code"], written["job_id"]], ["r1", owner.node, 2, 0, "7"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("sbatch arguments: wf's own first, no requeue, then the workflow file's", () => {
  assert.deepEqual(
    submitArgs({ cmd: "x", cwd: "/w", env: {}, stdout: "/r/o.log", stderr: "/r/e.log", status: "/r/s", jobName: "wf-r-t", args: ["--partition=p", "--time=00:00:10"] }),
    ["--parsable", "--no-requeue", "--job-name=wf-r-t", "--output=/r/o.log", "--error=/r/e.log", "--chdir=/w", "--export=ALL", "--partition=p", "--time=00:00:10"],
  );
});

test("squeue's answer is read as job id to state; pending and running states are active, ended ones are not", () => {
  assert.deepEqual([...parseStates("12|RUNNING\n13|PENDING\n14|CANCELLED\n\n")], [["12", "RUNNING"], ["13", "PENDING"], ["14", "CANCELLED"]]);
  for (const s of ["PENDING", "RUNNING", "COMPLETING", "SUSPENDED", "CONFIGURING"]) assert.ok(isActive(s), s);
  for (const s of ["COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"]) assert.ok(!isActive(s), s);
});
