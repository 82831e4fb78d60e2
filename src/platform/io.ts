/** What a command gets from the outside world: streams, environment, terminal. Tests pass their own. */
import process from "node:process";
import { type Failure, fsProblem } from "../util/failure.ts";

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
  /**
   * For output of any size, written chunk by chunk: resolves true once stdout
   * can take more, false once it takes nothing more (a reader that stopped, a
   * failed write), so the writer stops. Without it, every write is taken at once.
   */
  readonly drain?: () => Promise<boolean>;
  /**
   * Waits until what was written has left the process, then the first failed
   * write (an `output` failure), if any. A reader that stopped (EPIPE) is not a
   * failure. The exit code is picked after this (cli/main.ts).
   */
  readonly flush?: () => Promise<Failure | undefined>;
}

/** Colour only on a terminal, and never with NO_COLOR or TERM=dumb. */
export function useColor(io: Io, stream: "stdout" | "stderr"): boolean {
  const tty = stream === "stdout" ? io.stdoutIsTTY : io.stderrIsTTY;
  return tty && !io.env["NO_COLOR"] && io.env["TERM"] !== "dumb";
}

/** One of the process's output streams, with the first error of a write to it. */
class OutputStream {
  /** Set by the first error: nothing more is written. */
  closed = false;
  /** The first error, unless it was EPIPE (a reader that stopped: dropped quietly). */
  failure: Failure | undefined;

  constructor(
    private readonly name: "stdout" | "stderr",
    private readonly stream: NodeJS.WriteStream,
  ) {
    // Node reports a failed write here, a tick later (and to the write's callback).
    stream.on("error", (e) => this.fail(e));
  }

  private fail(e: unknown): void {
    if (this.closed) return;
    this.closed = true;
    const code = (e as { code?: unknown } | null)?.code;
    if (code === "EPIPE") return;
    this.failure = { kind: "output", stream: this.name, problem: fsProblem(e) ?? { code: typeof code === "string" ? code : "an unknown error" } };
  }

  write(text: string | Uint8Array): void {
    if (this.closed) return;
    try {
      this.stream.write(text, (e) => {
        if (e) this.fail(e);
      });
    } catch (e) {
      // Deno throws a failed write to a file (/dev/full) at once.
      this.fail(e);
    }
  }

  /** Resolves when the stream can take more (true) or has failed (false). */
  drain(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (!this.stream.writableNeedDrain) return Promise.resolve(true);
    return new Promise((resolve) => this.until("drain", () => resolve(!this.closed)));
  }

  /** Resolves once every earlier write has been done (or failed). */
  flush(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // Nothing queued: a failed write done already is reported by the next turn of the event loop.
    if (this.stream.writableLength === 0) return new Promise((resolve) => setImmediate(resolve));
    return new Promise((resolve) => {
      const stop = this.until("close", resolve);
      try {
        // Called back in order, after every earlier write.
        this.stream.write("", (e) => {
          if (e) this.fail(e);
          stop();
          resolve();
        });
      } catch (e) {
        this.fail(e);
        stop();
        resolve();
      }
    });
  }

  /** Calls `done` once, on `event` or when the stream fails or closes; returns what removes the listeners. */
  private until(event: "drain" | "close", done: () => void): () => void {
    const stop = () => {
      this.stream.off(event, once);
      this.stream.off("error", once);
      this.stream.off("close", once);
    };
    const once = () => {
      stop();
      done();
    };
    this.stream.on(event, once);
    this.stream.on("error", once);
    this.stream.on("close", once);
    return stop;
  }
}

/**
 * The process's own streams. Output to a closed pipe (`wf run ... | head -1`)
 * is dropped and the command goes on, quietly; any other failed write
 * (`wf show RUN > /dev/full`) is kept and returned by flush(), so the command
 * ends with one sentence and exit 1 (docs/errors.md).
 */
export function processIo(): Io {
  const stdout = new OutputStream("stdout", process.stdout);
  const stderr = new OutputStream("stderr", process.stderr);
  return {
    out: (text) => stdout.write(text),
    err: (text) => stderr.write(text),
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
    cwd: process.cwd(),
    drain: () => stdout.drain(),
    flush: async () => {
      await Promise.all([stdout.flush(), stderr.flush()]);
      return stdout.failure ?? stderr.failure;
    },
  };
}
