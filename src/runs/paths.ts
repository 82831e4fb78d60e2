/** Where runs live (the state directory of journal-format.md), run ids, and run-id prefixes. */
import { lstat, mkdir, readdir, stat } from "node:fs/promises";
import { readdirSync, type Stats } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { customAlphabet } from "nanoid";
import { JOURNAL_FILE } from "../journal/writer.ts";
import { type Failure, fsProblem } from "../util/failure.ts";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";
import { checkRunDir, checkStateDir } from "./trust.ts";

/**
 * The state directory: `--state-dir`, `$WF_STATE_DIR`, `$XDG_STATE_HOME/wf`,
 * then `$HOME/.local/state/wf`. Empty values count as unset.
 */
export function resolveStateDir(opts: { flag?: string | undefined; env: Record<string, string | undefined> }): Result<string, Failure> {
  const { flag, env } = opts;
  if (flag) return ok(flag);
  if (env["WF_STATE_DIR"]) return ok(env["WF_STATE_DIR"]);
  if (env["XDG_STATE_HOME"]) return ok(join(env["XDG_STATE_HOME"], "wf"));
  if (env["HOME"]) return ok(join(env["HOME"], ".local", "state", "wf"));
  return err({ kind: "no-state-dir" });
}

/** resolveStateDir's answer, once it passed the ownership check (trust.ts): before anything in it is read or written. */
export function trustedStateDir(opts: { flag?: string | undefined; env: Record<string, string | undefined> }): Result<string, Failure> {
  const dir = resolveStateDir(opts);
  if (!dir.ok) return dir;
  const trusted = checkStateDir(dir.value);
  return trusted.ok ? dir : trusted;
}

/**
 * Creates `path` and any missing parents with mode 0700; an existing folder
 * is left as it is. One level at a time, so an error names its real cause (a
 * recursive mkdir reports a read-only file system as a missing folder).
 */
export async function ensureDir(path: string): Promise<void> {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    const st = await stat(p).catch((e: { code?: string }) => {
      if (e.code === "ENOENT") return undefined;
      throw e;
    });
    if (st !== undefined) {
      if (!st.isDirectory()) throw Object.assign(new Error(`"${p}" is not a folder`), { code: "ENOTDIR" });
      break;
    }
    missing.push(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing.reverse()) {
    await mkdir(p, { mode: 0o700 }).catch((e: { code?: string }) => {
      if (e.code !== "EEXIST") throw e; // made meanwhile by another wf
    });
  }
}

const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RUN_ID_LENGTH = 10;
const makeId = customAlphabet(ALPHABET, RUN_ID_LENGTH);
const RUN_ID = /^[0-9A-Za-z]+$/;

/** A new run id: 10 characters of [0-9A-Za-z] (about 59 bits). */
export function newRunId(): string {
  return makeId();
}

/** The folder of one run: `<state>/runs/<id>`. */
export function runDir(stateDir: string, runId: string): string {
  return join(stateDir, "runs", runId);
}

/** A run's lock: one writer at a time. */
export const LOCK_FILE = "lock";

/** Every path of one run's folder. */
export function runPaths(stateDir: string, runId: string) {
  const dir = runDir(stateDir, runId);
  return {
    dir,
    journal: join(dir, JOURNAL_FILE),
    lock: join(dir, LOCK_FILE),
    logs: join(dir, "logs"),
    workflowCopy: join(dir, "workflow.toml"),
  } as const;
}

/**
 * Before a writer touches a run: its folder and its logs/ folder must be real
 * folders, not symbolic links planted to send its writes elsewhere, and
 * nobody but the user running wf may have written them (trust.ts).
 */
export async function checkRunFolder(paths: ReturnType<typeof runPaths>): Promise<Result<void, Failure>> {
  const trusted = checkRunDir(paths.dir);
  if (!trusted.ok) return trusted;
  for (const [path, what] of [[paths.dir, "use the run folder"], [paths.logs, "write logs to"]] as const) {
    let entry: Stats;
    try {
      entry = await lstat(path);
    } catch (e) {
      const problem = fsProblem(e);
      if (problem === undefined) throw e;
      return err({ kind: "fs", action: what, path, problem });
    }
    if (entry.isSymbolicLink()) return err({ kind: "fs", action: what, path, problem: "symbolic-link" });
    if (!entry.isDirectory()) return err({ kind: "fs", action: what, path, problem: "not-a-directory" });
  }
  return ok(undefined);
}

/** The folder of `--exclusive` locks, and the lock of one workflow in it (the name encoded, so it is never a path). */
export function workflowLockPath(stateDir: string, workflow: string): string {
  return join(stateDir, "locks", `${encodeURIComponent(workflow).replace(/^\./, "%2E")}.lock`);
}

/** The run index (runs/index.ts). */
export function indexPath(stateDir: string): string {
  return join(stateDir, INDEX_FILE);
}

const INDEX_FILE = "index.jsonl";

/** The ids of the run folders in the state directory, by listing `runs/` (none when it cannot be read). */
export async function runFolderIds(stateDir: string): Promise<string[]> {
  const entries = await readdir(join(stateDir, "runs"), { withFileTypes: true }).catch(() => []);
  return entries.filter((d) => d.isDirectory() && isRunId(d.name)).map((d) => d.name);
}

/** A well-formed run id (or prefix of one). */
export function isRunId(text: string): boolean {
  return RUN_ID.test(text);
}

/** The full id of the one run whose id starts with `prefix`. */
export function resolveRunId(stateDir: string, prefix: string): Result<string, Failure> {
  if (!RUN_ID.test(prefix)) return err({ kind: "usage", message: `Invalid run id "${prefix}": it may only hold letters and digits` });
  let ids: string[];
  try {
    ids = readdirSync(join(stateDir, "runs"), { withFileTypes: true })
      .filter((d) => (d.isDirectory() || d.isSymbolicLink()) && RUN_ID.test(d.name))
      .map((d) => d.name);
  } catch {
    ids = [];
  }
  if (ids.includes(prefix)) return ok(prefix);
  const matches = ids.filter((id) => id.startsWith(prefix)).sort();
  const [only] = matches;
  if (only === undefined) return err({ kind: "run-not-found", prefix, stateDir });
  if (matches.length === 1) return ok(only);
  return err({ kind: "run-ambiguous", prefix, matches });
}
