import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureDir, newRunId, resolveRunId, resolveStateDir, runDir } from "../../../src/runs/paths.ts";

test("resolveStateDir() prefers the flag, then WF_STATE_DIR, XDG_STATE_HOME, HOME", () => {
  const env = { WF_STATE_DIR: "/w", XDG_STATE_HOME: "/x", HOME: "/h" };
  assert.deepEqual(resolveStateDir({ flag: "/f", env }), { ok: true, value: "/f" });
  assert.deepEqual(resolveStateDir({ env }), { ok: true, value: "/w" });
  assert.deepEqual(resolveStateDir({ env: { ...env, WF_STATE_DIR: "" } }), { ok: true, value: join("/x", "wf") });
  assert.deepEqual(resolveStateDir({ env: { HOME: "/h" } }), { ok: true, value: join("/h", ".local", "state", "wf") });
  const none = resolveStateDir({ env: {} });
  assert.deepEqual(none, { ok: false, error: { kind: "no-state-dir" } });
});

test("newRunId() makes 10 alphanumeric characters", () => {
  const ids = new Set(Array.from({ length: 1000 }, newRunId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.match(id, /^[0-9A-Za-z]{10}$/);
});

test("ensureDir() creates folders 0700 and resolveRunId() accepts a unique prefix", async () => {
  const root = await mkdtemp(join(tmpdir(), "wf-state-"));
  try {
    await ensureDir(join(root, "state", "runs"));
    assert.equal((await stat(join(root, "state"))).mode & 0o777, 0o700);
    const state = join(root, "state");
    for (const id of ["7fQ2kLx9ab", "7fA0000000", "Zz99999999"]) await mkdir(runDir(state, id));
    assert.equal(runDir(state, "abc"), join(state, "runs", "abc"));
    assert.deepEqual(resolveRunId(state, "7fQ"), { ok: true, value: "7fQ2kLx9ab" });
    assert.deepEqual(resolveRunId(state, "Zz99999999"), { ok: true, value: "Zz99999999" });
    assert.deepEqual(resolveRunId(state, "7fq"), { ok: false, error: { kind: "run-not-found", prefix: "7fq", stateDir: state } });
    assert.deepEqual(resolveRunId(state, "7f"), {
      ok: false,
      error: { kind: "run-ambiguous", prefix: "7f", matches: ["7fA0000000", "7fQ2kLx9ab"] },
    });
    assert.ok(!resolveRunId(join(root, "missing"), "7f").ok);
    assert.ok(!resolveRunId(state, "../x").ok);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
