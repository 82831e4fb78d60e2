/**
 * README.md and docs/packaging.md say what works where they are used: a
 * crontab line names wf by its full path (cron's PATH is /usr/bin:/bin), an
 * npx line says --yes (npx asks before installing otherwise), and the exit
 * codes of the inspection commands are given.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { fencedBlocks, readDoc } from "./doc-files.ts";

const DOCS = ["README.md", "docs/packaging.md", "docs/resume.md"];

test("every crontab line runs wf by its absolute path", () => {
  let jobs = 0;
  for (const doc of DOCS) {
    for (const block of fencedBlocks(readDoc(doc), "cron")) {
      for (const line of block.split("\n")) {
        // A job line starts with five time fields; variable and comment lines do not.
        if (!/^(\S+\s+){5}/.test(line) || line.startsWith("#") || /^\w+=/.test(line)) continue;
        jobs++;
        const uses = [...line.matchAll(/(^|[\s;&|(=$])([^\s;&|(=$]*)\bwf (run|resume)\b/g)].map((m) => m[2] ?? "");
        assert.ok(uses.length > 0, `${doc}: a crontab line without "wf run" or "wf resume": ${line}`);
        for (const prefix of uses) assert.match(prefix, /^\/\S*\/$/, `${doc}: wf is not named by its full path in: ${line}`);
      }
    }
  }
  assert.ok(jobs >= 2, "no crontab job lines found in README.md and docs/packaging.md");
});

test("every npx line that installs a package says --yes", () => {
  let seen = 0;
  for (const doc of [...DOCS, "docs/cli.md", "docs/commands.md"]) {
    for (const m of readDoc(doc).matchAll(/npx [^`\n]*--package[^`\n]*/g)) {
      seen++;
      assert.match(m[0], /^npx --yes /, `${doc}: ${m[0]}`);
    }
  }
  assert.ok(seen >= 2);
});

test("README.md gives the exit codes of every inspection command", () => {
  const readme = readDoc("README.md");
  const section = readme.slice(readme.indexOf("## Exit codes"), readme.indexOf("\n## ", readme.indexOf("## Exit codes") + 1));
  for (const command of ["runs", "show", "logs", "graph", "diff", "export", "prune", "verify", "validate"]) {
    assert.match(section, new RegExp("`(wf )?" + command + "`"), `the exit codes section does not name "${command}"`);
  }
});
