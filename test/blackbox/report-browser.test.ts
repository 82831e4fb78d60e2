/**
 * `wf report` pages in a real browser: Debian's headless Chromium, driven by
 * puppeteer-core (which never downloads a browser). For a succeeded run, a
 * failed-then-resumed one (both by the real CLI) and a 2,000-task one (a
 * journal written with chosen times), each page must make no request but
 * its own file, log no error, and draw one bar per attempt in the journal,
 * with scripts on and off; a screenshot of each is saved in a temporary
 * folder ($WF_REPORT_SCREENSHOTS to choose it). Without a browser the test
 * says so in one line and is skipped.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { describe, test } from "node:test";
import { bigRun } from "./report-journal.ts";
import { type JournalLine, TestRig } from "./rig.ts";

/** Where Debian (and most distributions) put Chromium; $CHROMIUM first. */
function findBrowser(): string | undefined {
  const candidates = [process.env["CHROMIUM"], "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p) => p !== undefined && p !== "" && existsSync(p));
}

/** Attempts in a journal: each task_started, and each task_finished with no start (it could not start). */
function attemptsIn(lines: readonly JournalLine[]): number {
  const started = new Set<string>();
  let n = 0;
  for (const l of lines) {
    const key = `${String(l["task"])}\u0000${String(l["attempt"])}\u0000${String(l["forensic_for"] ?? "")}`;
    if (l.type === "task_started") {
      started.add(key);
      n++;
    } else if (l.type === "task_finished" && !started.has(key)) n++;
  }
  return n;
}

const SUCCEEDED = `name = "ci"
[tasks.version]
cmd = "echo v1.4.2"
register = "version"
[tasks.lint]
cmd = "sleep 0.2"
[tasks.build]
cmd = "sleep 0.4; echo built {{.version}}"
depends_on = ["version", "lint"]
[tasks.unit]
cmd = "sleep 0.3"
depends_on = ["build"]
[tasks.e2e]
cmd = "sleep 0.5"
depends_on = ["build"]
[tasks.docs]
cmd = "true"
depends_on = ["version"]
if = 'version == "none"'
[tasks.publish]
cmd = "sleep 0.1"
depends_on = ["unit", "e2e", "docs"]
`;

/** build fails until the file "fixed" exists (it retries once); collect-logs serves it. */
const FLAKY = `name = "release"
[tasks.lint]
cmd = "sleep 0.2"
[tasks.build]
cmd = "sleep 0.3; test -f fixed || { echo 'make: *** [all] Error 2' >&2; exit 2; }"
depends_on = ["lint"]
retries = 1
on_failure = "collect-logs"
[tasks.unit]
cmd = "sleep 0.4"
depends_on = ["lint"]
[tasks.package]
cmd = "sleep 0.2"
depends_on = ["build", "unit"]
[tasks.collect-logs]
type = "forensic"
cmd = "echo collected"
`;

/** Skips with one line: node's runner prints the reason of a skip, Deno's does not, so it is printed there. */
function skip(t: { skip(message?: string): void }, message: string): void {
  if ("Deno" in globalThis) console.log(`skipped: ${message}`);
  t.skip(message);
}

describe("wf report in headless Chromium", () => {
  test("pages of a succeeded, a failed-then-resumed and a 2,000-task run: no request, no error, a bar per attempt, a screenshot each", async (t) => {
    const browserPath = findBrowser();
    if (browserPath === undefined) {
      skip(t, "no Chromium found (install Debian's chromium package, or set CHROMIUM): the report's browser test is skipped");
      return;
    }
    let launch: typeof import("puppeteer-core").launch;
    try {
      ({ launch } = await import("puppeteer-core"));
    } catch (e) {
      skip(t, `puppeteer-core cannot be loaded here (${e instanceof Error ? e.message.split("\n")[0] : String(e)}): the report's browser test is skipped`);
      return;
    }
    await using rig = await TestRig.create();
    const shots = process.env["WF_REPORT_SCREENSHOTS"] || (await mkdtemp(join(tmpdir(), "wf-report-shots-")));
    await mkdir(shots, { recursive: true });

    // The runs: two by the real CLI, one written.
    await rig.write("ci.toml", SUCCEEDED);
    const ok = await rig.run(["run", "ci.toml", "--work-stealing", "--quiet"]);
    assert.equal(ok.code, 0, ok.stderr);
    const succeeded = await rig.lastRunId();
    await rig.write("release.toml", FLAKY);
    const failed = await rig.run(["run", "release.toml", "--parallel", "--quiet"]);
    assert.equal(failed.code, 1, failed.stderr);
    const resumed = await rig.lastRunId();
    await rig.write("fixed", "");
    const resume = await rig.run(["resume", resumed, "--quiet"]);
    assert.equal(resume.code, 0, resume.stderr);
    const big = bigRun("Big2000run", 2000);
    await big.journal.write(rig.stateDir);

    const cases = [
      { name: "succeeded", id: succeeded, full: true },
      { name: "failed-then-resumed", id: resumed, full: true },
      { name: "2000-tasks", id: "Big2000run", full: false },
    ];
    const browser = await launch({
      executablePath: browserPath,
      headless: true,
      // Chromium's start and a 2,000-row page can take longer than puppeteer's 30 s defaults on two busy cores.
      timeout: 120_000,
      protocolTimeout: 300_000,
      // Root in a container has no user namespace for Chromium's sandbox.
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      for (const c of cases) {
        const file = rig.path(`${c.name}.html`);
        const r = await rig.run(["report", c.id, "-o", file]);
        assert.equal(r.code, 0, r.stderr);
        const attempts = attemptsIn(await rig.journal(c.id));
        if (c.id === "Big2000run") assert.equal(attempts, big.attempts);
        for (const javaScript of [true, false]) {
          const page = await browser.newPage();
          const requests: string[] = [];
          const problems: string[] = [];
          page.on("console", (m) => {
            if (m.type() === "error") problems.push(`console: ${m.text()}`);
          });
          page.on("pageerror", (e) => problems.push(`page error: ${String(e)}`));
          await page.setRequestInterception(true);
          const url = pathToFileURL(file).href;
          page.on("request", (req) => {
            if (req.url() !== url) requests.push(req.url());
            void (req.url() === url ? req.continue() : req.abort());
          });
          page.setDefaultTimeout(120_000);
          await page.setJavaScriptEnabled(javaScript);
          await page.setViewport({ width: 1280, height: 900 });
          await page.goto(url, { waitUntil: "load" });
          const what = `${c.name}, scripts ${javaScript ? "on" : "off"}`;
          assert.deepEqual(requests, [], `${what}: requests`);
          assert.deepEqual(problems, [], `${what}: errors`);
          // Expressions as text: the tests are compiled without the DOM's types.
          const count = async (selector: string) => Number(await page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`));
          assert.equal(await count("#timeline-svg rect.bar"), attempts, `${what}: one bar per attempt`);
          const filters = await page.evaluate('!document.getElementById("filters").classList.contains("hidden")');
          assert.equal(filters, javaScript, `${what}: the filters need the script`);
          if (javaScript) {
            // A filter hides the rows of a state: here, every succeeded task.
            const box = `document.querySelector('#filters input[value="succeeded"]').click()`;
            await page.evaluate(box);
            assert.equal(await count("#timeline-svg g.row:not(.hidden)"), await count('#timeline-svg g.row:not([data-state="succeeded"])'), `${what}: filter`);
            await page.evaluate(box);
            assert.equal(await count("#timeline-svg g.row:not(.hidden)"), await count("#timeline-svg g.row"), `${what}: filter off`);
            // A page of 2,000 rows is too tall for one picture: its timeline, from the top.
            if (!c.full) await page.evaluate('document.getElementById("timeline").scrollIntoView()');
            await page.screenshot({ path: join(shots, `${c.name}.png`) as `${string}.png`, fullPage: c.full });
          }
          assert.deepEqual(problems, [], `${what}: errors after the interactions`);
          await page.close();
        }
      }
    } finally {
      await browser.close();
    }
    t.diagnostic(`screenshots in ${shots}`);
  });
});
