/** Where runs live (SPEC section 4), run ids, and run-id prefixes. */
import { mkdir } from "node:fs/promises";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { customAlphabet } from "nanoid";
import { err, ok } from "../util/result.ts";
import type { Result } from "../util/result.ts";

/**
 * The state directory: `--state-dir`, `$WF_STATE_DIR`, `$XDG_STATE_HOME/wf`,
 * then `$HOME/.local/state/wf`. Empty values count as unset.
 */
export function resolveStateDir(opts: { flag?: string | undefined; env: Record<string, string | undefined> }): Result<string, string> {
  const { flag, env } = opts;
  if (flag) return ok(flag);
  if (env["WF_STATE_DIR"]) return ok(env["WF_STATE_DIR"]);
  if (env["XDG_STATE_HOME"]) return ok(join(env["XDG_STATE_HOME"], "wf"));
  if (env["HOME"]) return ok(join(env["HOME"], ".local", "state", "wf"));
  return err("Cannot find the state directory: HOME is not set; pass --state-dir or set WF_STATE_DIR");
}

/** Creates `path` and any missing parents with mode 0700; an existing folder is left as it is. */
export async function ensureDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
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

/** The full id of the one run whose id starts with `prefix`. */
export function resolveRunId(stateDir: string, prefix: string): Result<string, string> {
  if (!RUN_ID.test(prefix)) return err(`Invalid run id "${prefix}": it may only hold letters and digits`);
  let ids: string[];
  try {
    ids = readdirSync(join(stateDir, "runs"), { withFileTypes: true })
      .filter((d) => d.isDirectory() && RUN_ID.test(d.name))
      .map((d) => d.name);
  } catch {
    ids = [];
  }
  if (ids.includes(prefix)) return ok(prefix);
  const matches = ids.filter((id) => id.startsWith(prefix)).sort();
  const [only] = matches;
  if (only === undefined) return err(`No run matches "${prefix}"`);
  if (matches.length === 1) return ok(only);
  const shown = matches.slice(0, 5).map((id) => `"${id}"`).join(", ");
  const more = matches.length > 5 ? ` and ${matches.length - 5} more` : "";
  return err(`Run id prefix "${prefix}" is ambiguous: it matches ${shown}${more}`);
}
