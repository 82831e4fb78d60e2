/**
 * A real single-node Slurm cluster for the tests (scripts/slurm-cluster.sh), shared by every
 * test process that asks for it: the first one starts it, the last one to exit stops it (by
 * the pids the script recorded) unless it ran before the tests did.
 *
 *   const slurm = await slurmCluster();
 *   slurmSuite("Slurm jobs", slurm, (cluster) => { test(..., () => cluster.env ...) });
 *
 * Where the cluster cannot start (not root, no apt-get, the daemons fail) the suite is
 * skipped with one line saying why, unless WF_REQUIRE_SLURM=1 (CI), where it fails.
 */
import { execFile, spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { join } from "node:path";
import process from "node:process";
import { repoRoot } from "./rig.ts";

/** A running cluster: the variables its clients need, and where its records are. */
export interface SlurmCluster {
  /** SLURM_CONF and the others `slurm-cluster.sh` prints, for child processes. */
  readonly env: Readonly<Record<string, string>>;
  /** The scheduler's own record of every ended job (jobcomp/filetxt), one line each. */
  readonly jobcomp: string;
}

/** The cluster, or the one-line reason it could not be had. */
export type SlurmAvailability = { readonly ok: true; readonly cluster: SlurmCluster } | { readonly ok: false; readonly reason: string };

const script = () => join(repoRoot(), "scripts", "slurm-cluster.sh");

let once: Promise<SlurmAvailability> | undefined;

/** Starts the cluster once per process, or joins the one running. */
export function slurmCluster(): Promise<SlurmAvailability> {
  return (once ??= start());
}

async function start(): Promise<SlurmAvailability> {
  if (process.platform !== "linux") return { ok: false, reason: "Slurm tests need Linux" };
  // Without root the script can neither install nor start anything, but may join a cluster
  // someone started.
  const root = process.getuid?.() === 0;
  const r = await runScript(root ? ["start", "--lease", String(process.pid)] : ["status"]);
  if (r.code !== 0) {
    const said = r.stderr.trim().split("\n").pop()?.replace(/^slurm-cluster: /, "") ?? "";
    return { ok: false, reason: root ? `cannot start a Slurm cluster: ${said || `exit ${r.code}`}` : "not root and no Slurm cluster running" };
  }
  if (root) atExit(() => spawnSync(script(), ["release", String(process.pid)], { stdio: "ignore", timeout: 30_000 }));
  const env: Record<string, string> = {};
  for (const line of r.stdout.split("\n")) {
    const m = /^export ([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]!] = m[2]!;
  }
  const jobcomp = env["WF_SLURM_JOBCOMP"];
  if (env["SLURM_CONF"] === undefined || jobcomp === undefined) {
    return { ok: false, reason: `scripts/slurm-cluster.sh printed no SLURM_CONF: ${JSON.stringify(r.stdout)}` };
  }
  return { ok: true, cluster: { env, jobcomp } };
}

/**
 * Runs `release` once when this process exits (Node's "exit") or, under `deno test`, which
 * fires no "exit" but an "unload" per test module, when the module is done. It must be
 * synchronous: neither waits. The script stops the cluster when no other live process holds
 * a lease on it.
 */
function atExit(release: () => void): void {
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    release();
  };
  process.once("exit", once);
  const global = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
  global.addEventListener?.("unload", once);
}

function runScript(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Installing the packages may take minutes; starting takes seconds.
    execFile(script(), args, { timeout: 600_000, killSignal: "SIGKILL" }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout, stderr: stderr || (error?.message ?? "") });
    });
  });
}

/**
 * `describe(name)` with the cluster, or, without one, a skipped suite whose reason is printed
 * in one line; with WF_REQUIRE_SLURM=1 a failing test instead.
 */
export function slurmSuite(name: string, slurm: SlurmAvailability, body: (cluster: SlurmCluster) => void): void {
  if (slurm.ok) {
    describe(name, () => body(slurm.cluster));
  } else if (process.env["WF_REQUIRE_SLURM"] === "1") {
    test(`${name}: a Slurm cluster is required (WF_REQUIRE_SLURM=1)`, () => {
      throw new Error(slurm.reason);
    });
  } else {
    console.log(`Skipping "${name}": ${slurm.reason}`);
    describe(name, { skip: slurm.reason }, () => {});
  }
}
