/**
 * What reaches a terminal (a pseudo-terminal from util-linux script(1)): task
 * data that tries to paint it (cursor moves, line clears, a retitle, a colour,
 * C1 controls) comes out escaped from every command, in colour or not; only
 * wf's own colours and progress line are escape sequences. `--json` keeps the
 * exact text, and `wf logs --raw` the bytes (docs/cli.md, "Control characters").
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { cliCommand, TestRig } from "./rig.ts";

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).stdout?.includes("util-linux") === true;
const quote = (w: string) => `'${w.replaceAll("'", "'\\''")}'`;

/** Runs the CLI with stdout and stderr on a pseudo-terminal; its bytes as latin1 (one char per byte). */
function onTty(rig: TestRig, args: string[], color = true): { status: number | null; out: string } {
  const env = rig.env({ COLUMNS: "200" });
  if (color) delete env["NO_COLOR"];
  const r = spawnSync("script", ["-qec", [...cliCommand(), ...args].map(quote).join(" "), "/dev/null"], {
    cwd: rig.dir, env, encoding: "latin1", timeout: 60_000,
  });
  return { status: r.status, out: r.stdout };
}

/** wf's own sequences: picocolors' bold, dim, red, green, yellow and their resets, and the progress line's erase. */
const OURS = /\x1b\[(?:1|2|22|31|32|33|39)m|\x1b\[K/g;
/** A control character a terminal acts on: C0 but tab, newline and CR (the pty's own), DEL, and C1 in UTF-8. */
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]/;

function assertInert(out: string, what: string): void {
  const rest = out.replace(OURS, "");
  const found = CONTROL.exec(rest);
  assert.equal(found, null, `${what}: a control character from task data reached the terminal at ${found?.index}: ${JSON.stringify(rest.slice(Math.max(0, (found?.index ?? 0) - 40), (found?.index ?? 0) + 40))}`);
}

// The workflow name retitles the terminal; deploy's error tail moves up, clears the line and paints a
// success; build registers a value in magenta with a C1 CSI in it; a matrix value holds a C1 CSI too.
const SPOOF = [
  'name = "spoof\\u001b]0;pwned\\u0007"',
  "[tasks.build]",
  `cmd = '''printf 'version=1\\033[35mx\\302\\233y\\n' '''`,
  'register = "version"',
  "[tasks.deploy]",
  'depends_on = ["build"]',
  `cmd = '''printf 'oops\\033[1A\\033[2K\\342\\234\\223 deploy (succeeded in 2s)\\n' >&2; exit 1'''`,
  "[tasks.cell]",
  'cmd = "echo {{.env}}"',
  'matrix = { env = ["a\\u009bb", "plain"] }',
  "",
].join("\n");

const SPOOFED = "oops\x1b[1A\x1b[2K\u2713 deploy (succeeded in 2s)";
const SHOWN_SPOOF = "oops\\x1b[1A\\x1b[2K\u2713 deploy (succeeded in 2s)";

test("no control character of task data reaches a terminal from any command; --json keeps the exact text", { skip: !hasScript, timeout: 240_000 }, async () => {
  await using rig = await TestRig.create();
  await rig.write("w.toml", SPOOF);
  // Live progress and colours on: the run's lines, and task output with --print-output.
  const run = onTty(rig, ["run", "w.toml", "--keep-going", "--print-output"]);
  assert.equal(run.status, 1, run.out);
  assertInert(run.out, "wf run");
  const utf8 = (s: string) => Buffer.from(s, "latin1").toString("utf8");
  assert.ok(utf8(run.out).includes(SHOWN_SPOOF), run.out);
  assert.ok(utf8(run.out).includes("spoof\\x1b]0;pwned\\x07"), run.out);
  assert.ok(utf8(run.out).includes("version=1\\x1b[35mx\\u009by"), run.out);
  const [first] = await rig.runIds();
  // A second run of the same workflow, for diff; without colour this time.
  const again = onTty(rig, ["run", "w.toml", "--keep-going"], false);
  assert.equal(again.status, 1);
  assertInert(again.out, "wf run without colour");
  const second = await rig.lastRunId();

  const commands: [string, string[]][] = [
    ["show", ["show", first!]],
    ["show --timeline", ["show", first!, "--timeline"]],
    ["runs", ["runs"]],
    ["graph --run", ["graph", "--run", first!]],
    ["graph", ["graph", "w.toml"]],
    ["graph dot", ["graph", "w.toml", "--format", "dot"]],
    ["graph mermaid", ["graph", "w.toml", "--format", "mermaid"]],
    ["diff", ["diff", first!, second]],
    ["prune", ["prune", "--keep", "0", "--dry-run"]],
    ["logs", ["logs", first!]],
    ["resume --dry-run", ["resume", first!, "--dry-run"]],
    ["run --dry-run", ["run", "w.toml", "--dry-run"]],
  ];
  for (const [what, args] of commands) {
    const r = onTty(rig, args);
    assert.equal(r.status, 0, `${what}: ${r.out}`);
    assertInert(r.out, what);
    assert.ok(utf8(r.out).includes("\\x1b") || utf8(r.out).includes("\\u009b"), `${what} shows no escaped text: ${r.out}`);
  }
  assert.ok(utf8(onTty(rig, ["show", first!]).out).includes(SHOWN_SPOOF));
  // A value is shown as a JSON string (ESC as \u001b), its C1 character made inert as \u009b.
  assert.ok(utf8(onTty(rig, ["show", first!]).out).includes("version = \"version=1\\u001b[35mx\\u009by\" (from build)"));

  // A failure sentence quotes what a task printed: made inert on stderr too.
  const resume = onTty(rig, ["resume", first!, "--only", "nosuch"]);
  assertInert(resume.out, "a failure sentence");

  // --json: the exact text once parsed, but no byte that acts on a terminal (JSON escapes C0, wf DEL and C1).
  const json = onTty(rig, ["show", first!, "--json"]);
  assert.equal(json.status, 0);
  assertInert(json.out, "show --json");
  const doc = JSON.parse(utf8(json.out)) as { workflow: string; tasks: { id: string; reason: string | null }[] };
  assert.equal(doc.workflow, "spoof\x1b]0;pwned\x07");
  assert.equal(doc.tasks.find((t) => t.id === "deploy")?.reason, `exit status 1: ${SPOOFED}`);
  assert.deepEqual(doc.tasks.map((t) => t.id).sort(), ["build", "cell[env=\"a\u009bb\"]", "cell[env=plain]", "deploy"]);
  // The HTML report shows them visibly escaped too.
  const page = await rig.run(["report", first!, "-o", "-"]);
  assert.equal(page.code, 0, page.stderr);
  assert.equal(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/.exec(page.stdout), null);
  assert.ok(page.stdout.includes("spoof\\x1b]0;pwned\\x07"));
  assert.ok(page.stdout.includes("oops\\x1b[1A\\x1b[2K"));
  const runsJson = JSON.parse(utf8(onTty(rig, ["runs", "--json"]).out)) as { workflow: string }[];
  assert.deepEqual(runsJson.map((r) => r.workflow), ["spoof\x1b]0;pwned\x07", "spoof\x1b]0;pwned\x07"]);
});

test("a workflow's diagnostics show its control characters escaped", { skip: !hasScript }, async () => {
  await using rig = await TestRig.create();
  await rig.write("bad.toml", '[tasks.a]\ncmd = "true"\n"x\\u001b[2Ky" = 1\n');
  const r = onTty(rig, ["validate", "bad.toml"]);
  assert.equal(r.status, 2, r.out);
  assertInert(r.out, "wf validate");
  assert.match(r.out, /x\\x1b\[2Ky/);
});

test("wf logs escapes control characters on a terminal, and --raw does not", { skip: !hasScript }, async () => {
  await using rig = await TestRig.create();
  await rig.write("esc.toml", `[tasks.e]\ncmd = 'printf "a\\\\033[31mred\\\\r\\\\n"'\n`);
  assert.equal((await rig.run(["run", "esc.toml"])).code, 0);
  const id = await rig.lastRunId();
  const escaped = onTty(rig, ["logs", id]);
  assert.equal(escaped.status, 0);
  assert.equal(escaped.out.includes("\x1b"), false);
  assert.match(escaped.out, /a\\x1b\[31mred\\x0d/);
  const raw = onTty(rig, ["logs", id, "--raw"]);
  assert.equal(raw.status, 0);
  assert.equal(raw.out.includes("a\x1b[31mred"), true);
});
