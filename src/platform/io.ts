/** What a command gets from the outside world: streams, environment, terminal. Tests pass their own. */
import process from "node:process";

/** The streams and environment a command runs with; tests pass their own. */
export interface Io {
  /** Writes to stdout; output to a closed pipe is dropped (the journal, not the terminal, is the record). */
  readonly out: (text: string | Uint8Array) => void;
  readonly err: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdoutIsTTY: boolean;
  readonly stderrIsTTY: boolean;
  /** The directory wf was started in. */
  readonly cwd: string;
}

/** Colour only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function useColor(io: Io, stream: "stdout" | "stderr"): boolean {
  const tty = stream === "stdout" ? io.stdoutIsTTY : io.stderrIsTTY;
  return tty && !io.env["NO_COLOR"] && io.env["TERM"] !== "dumb";
}

/** The process's own streams; output to a closed pipe (`wf run ... | head -1`) is dropped, and the run goes on. */
export function processIo(): Io {
  let stdoutOpen = true;
  let stderrOpen = true;
  process.stdout.on("error", () => (stdoutOpen = false));
  process.stderr.on("error", () => (stderrOpen = false));
  return {
    out: (text) => void (stdoutOpen && process.stdout.write(text)),
    err: (text) => void (stderrOpen && process.stderr.write(text)),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
  };
}

