/**
 * Black-box test rig: runs the real `wf` CLI in a temporary directory with its
 * own state directory, after google/wireit's src/test/util/test-rig.ts.
 *
 *   await using rig = await TestRig.create();
 *   await rig.write("ci.toml", "...");
 *   const r = await rig.run(["run", "ci.toml"]);
 *
 * Which CLI runs is a parameter: `WF_CLI` is a shell-words string such as
 * `node bin/wf.js`, `deno run -A src/main.ts` or `dist/wf` (relative paths are
 * taken from the repository root). The default is `node <repo>/bin/wf.js`.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** What a finished CLI process left behind. */
export interface RunResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment variables, on top of the rig's. */
  env?: Record<string, string>;
  /** The directory to run in, relative to the rig's (default: the rig's). */
  cwd?: string;
  /** Kill the process group with SIGKILL after this long (default 120 s). */
  timeoutMs?: number;
  /** Text written to the process's stdin, which is then closed. */
  stdin?: string;
  /**
   * Only a bug may print "Internal error", so by default output holding it
   * fails the test; a test that forces a real bug sets this.
   */
  allowInternalError?: boolean;
}

/** A small fixed-seed generator (mulberry32): kill points and other "random" choices that are the same every run. */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pids of this user's processes whose environment holds `entry` (`NAME=value`), read from /proc. */
export async function processesWithEnv(entry: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const environ = await readFile(`/proc/${name}/environ`, "utf8").catch(() => "");
    if (environ.split("\0").includes(entry)) found.push(Number(name));
  }
  return found;
}

/** A parsed journal line: envelope keys plus the event's own. */
export type JournalLine = Record<string, unknown> & { type: string; seq: number };

/** The repository root: the nearest directory above this file holding package.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("Internal error: no package.json above the test rig");
    dir = parent;
  }
}

/**
 * Splits a shell-words string: whitespace separates words; single quotes,
 * double quotes and backslashes work as in sh (no expansions).
 */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i]!;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i]!;
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new Error(`Cannot parse WF_CLI: unclosed ${quote} in "${text}"`);
  if (inWord) words.push(word);
  return words;
}

/**
 * The command that runs the CLI, as argv words. Relative paths among the
 * words (those with a slash that exist under the repo) are made absolute,
 * because the CLI runs with the rig's directory as its cwd.
 */
/**
 * This process's environment without the variables of the caller's shell
 * that would steer the CLI under test: every `WF_*` and `XDG_*` (a state
 * directory of the caller's own, say) and FORCE_COLOR. A test passes what it
 * means explicitly.
 */
export function callerFreeEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith("WF_") || k.startsWith("XDG_") || k === "FORCE_COLOR") continue;
    env[k] = v;
  }
  return env;
}

export function cliCommand(spec: string | undefined = process.env["WF_CLI"]): string[] {
  const root = repoRoot();
  const words = spec !== undefined && spec.trim() !== "" ? shellWords(spec) : ["node", "bin/wf.js"];
  return words.map((w) => (!isAbsolute(w) && w.includes("/") && existsSync(join(root, w)) ? join(root, w) : w));
}

export class TestRig implements AsyncDisposable {
  /** The temporary directory the CLI runs in. */
  readonly dir: string;
  /** `WF_STATE_DIR` for every process the rig starts. */
  readonly stateDir: string;
  readonly #cli: string[];
  readonly #children = new Set<ChildProcess>();

  private constructor(dir: string, cli: string[]) {
    this.dir = dir;
    this.stateDir = join(dir, "state");
    this.#cli = cli;
  }

  /** Makes a fresh temporary directory; `cli` overrides `WF_CLI` (as argv words). */
  static async create(opts: { cli?: string[] } = {}): Promise<TestRig> {
    const dir = await mkdtemp(join(tmpdir(), "wf-rig-"));
    return new TestRig(dir, opts.cli ?? cliCommand());
  }

  /** Writes a file under the rig directory, creating parent folders. */
  async write(relPath: string, text: string): Promise<string> {
    const path = this.path(relPath);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
    return path;
  }

  /** Reads a file under the rig directory. */
  read(relPath: string): Promise<string> {
    return readFile(this.path(relPath), "utf8");
  }

  /** An absolute path inside the rig directory. */
  path(relPath: string): string {
    return resolve(this.dir, relPath);
  }

  /** The environment every CLI process gets: the caller's, without what steers wf, plus the rig's state directory. */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return { ...callerFreeEnv(), WF_STATE_DIR: this.stateDir, NO_COLOR: "1", ...extra };
  }

  /**
   * Starts the CLI with `args` in the rig directory, in its own process group
   * (so a kill test can signal `-pid`). The caller owns the process.
   */
  spawn(args: string[], opts: Pick<RunOptions, "env" | "cwd"> = {}): ChildProcess {
    const [cmd, ...pre] = this.#cli;
    if (cmd === undefined) throw new Error("Internal error: empty CLI command");
    const child = spawn(cmd, [...pre, ...args], {
      cwd: opts.cwd === undefined ? this.dir : this.path(opts.cwd),
      env: this.env(opts.env),
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    this.#children.add(child);
    child.once("close", () => this.#children.delete(child));
    return child;
  }

  /** Runs the CLI to completion and collects its output. */
  run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
    const child = this.spawn(args, { ...(opts.env === undefined ? {} : { env: opts.env }), ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }) });
    return collect(child, opts);
  }

  /** Run ids in the state directory, oldest first (by the time on each journal's first line). */
  async runIds(): Promise<string[]> {
    const runsDir = join(this.stateDir, "runs");
    if (!existsSync(runsDir)) return [];
    const ids = await readdir(runsDir);
    const started = await Promise.all(
      ids.map(async (id) => {
        try {
          const first = (await this.journalText(id)).split("\n", 1)[0] ?? "";
          return { id, ts: String((JSON.parse(first) as { ts?: unknown }).ts ?? "") };
        } catch {
          return { id, ts: "" }; // No journal yet, or a torn first line: sort it first.
        }
      }),
    );
    return started.sort((a, b) => a.ts.localeCompare(b.ts) || a.id.localeCompare(b.id)).map((x) => x.id);
  }

  /** The most recent run's id; throws when there is none. */
  async lastRunId(): Promise<string> {
    const ids = await this.runIds();
    const last = ids.at(-1);
    if (last === undefined) throw new Error(`No run in "${this.stateDir}"`);
    return last;
  }

  /** Waits until a file exists under the rig directory: a task's sign that it is running. */
  async waitForFile(relPath: string, timeoutMs = 10_000): Promise<void> {
    for (let waited = 0; !existsSync(this.path(relPath)); waited += 50) {
      if (waited >= timeoutMs) throw new Error(`"${relPath}" did not appear within ${timeoutMs}ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The pid journaled for `task`'s last attempt, once its task_spawned line is durable. */
  async spawnedPid(runId: string, task: string): Promise<number> {
    let pid: number | undefined;
    await until(`task_spawned of ${task}`, async () => {
      const line = (await this.journal(runId).catch(() => [])).findLast((l) => l.type === "task_spawned" && l["task"] === task);
      pid = typeof line?.["pid"] === "number" ? line["pid"] : undefined;
      return pid !== undefined;
    });
    return pid!;
  }

  /** The raw text of a run's journal. */
  journalText(runId: string): Promise<string> {
    return readFile(join(this.stateDir, "runs", runId, "journal.jsonl"), "utf8");
  }

  /** A run's journal, one parsed object per line. */
  async journal(runId: string): Promise<JournalLine[]> {
    const text = await this.journalText(runId);
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as JournalLine);
  }

  /**
   * Kills any process still running and removes the directory. Jobs and their
   * launcher outlive a killed wf in their own sessions: they are found by the
   * state directory in their environment, and their groups killed by pid.
   */
  async cleanup(): Promise<void> {
    for (const child of this.#children) killGroup(child, "SIGKILL");
    for (const pid of await processesWithEnv(`WF_STATE_DIR=${this.stateDir}`)) {
      try {
        process.kill(-pid, "SIGKILL");
      } catch {
        // Not a group leader, or gone already.
      }
    }
    // A launcher killed a moment ago may have been writing a status file.
    await rm(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}

/** Polls until `check` holds, or fails after `timeoutMs` (a guard against hanging, not a timed assertion). */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  for (let waited = 0; !(await check()); waited += 50) {
    if (waited >= timeoutMs) throw new Error(`${what} did not happen within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Signals a child's whole process group (it was spawned detached). */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** Waits for a child to close, collecting its output; kills it at the timeout. */
export function collect(child: ChildProcess, opts: Pick<RunOptions, "stdin" | "timeoutMs" | "allowInternalError"> = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr?.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin?.on("error", () => {}); // The CLI may exit without reading stdin.
    child.stdin?.end(opts.stdin ?? "");
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, "SIGKILL");
    }, timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) stderr += `\n[rig] killed after ${timeoutMs} ms\n`;
      if (!opts.allowInternalError && `${stdout}${stderr}`.includes("Internal error")) {
        reject(new Error(`The CLI reported a bug (exit ${code}):\n${stderr}${stdout}`));
        return;
      }
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
