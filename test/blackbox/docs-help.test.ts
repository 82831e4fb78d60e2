/**
 * README.md and docs/cli.md against the real `--help` of every command, so
 * the documents and the CLI cannot drift apart:
 *
 * - every command of `wf --help` has its section in docs/cli.md, and every
 *   option of its `--help` is in that section's option table;
 * - every option in a table of a command's section is an option of that
 *   command (or of every command);
 * - every `wf <command>` shown in code in either document is a real command,
 *   and every option after it on that line is one of that command's;
 * - every other option shown in code is an option of some command, or one of
 *   the other tools' flags listed below.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot, TestRig } from "./rig.ts";

const DOCS = ["README.md", "docs/cli.md"];

/** Flags of other programs that the documents show (each with the command it belongs to). */
const OTHER_TOOLS = new Set([
  "--yes", "--package", // npx --yes --package <tarball> wf ...
  "-g", // npm install -g
  "-A", "--no-check", // deno run -A, deno test --no-check
  "--test", // node --test
  "--noEmit", // tsc --noEmit
  "-c", // /bin/sh -c
  "-tf", // tar -tf
  "--tags", // git describe --tags, in the example workflow
  "--bogus", // the unknown option of the usage-error example
]);

/** Words that follow "wf" in messages quoted in code (`no wf process is using it`), not commands. */
const NOT_COMMANDS = new Set(["does", "process"]);

interface Help {
  /** Command name to its options (long and short forms). */
  commands: Map<string, Set<string>>;
  /** Options every command takes, and the top-level ones (`--version`). */
  global: Set<string>;
}

/** The lines of one titled block ("Commands:", "Options:") of a cac help text. */
function block(help: string, title: string): string[] {
  const lines = help.split("\n");
  const start = lines.indexOf(title);
  if (start === -1) return [];
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    out.push(line.trim());
  }
  return out;
}

/** The flags of an "Options:" block: `-f, --follow   Keep printing...` gives -f and --follow. */
function optionFlags(help: string): Set<string> {
  const flags = new Set<string>();
  for (const line of block(help, "Options:")) {
    const spec = line.split(/\s{2,}/)[0] ?? "";
    for (const m of spec.matchAll(/--?[a-zA-Z][\w-]*/g)) flags.add(m[0]);
  }
  return flags;
}

async function realHelp(rig: TestRig): Promise<Help> {
  const top = await rig.run(["--help"]);
  assert.equal(top.code, 0, top.stderr);
  const names = block(top.stdout, "Commands:").map((line) => line.split(/\s+/)[0] ?? "");
  assert.ok(names.length >= 11, `too few commands in wf --help:\n${top.stdout}`);
  const global = optionFlags(top.stdout);
  const commands = new Map<string, Set<string>>();
  for (const name of names) {
    const r = await rig.run([name, "--help"]);
    assert.equal(r.code, 0, `wf ${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`\\$ wf ${name}\\b`), `wf ${name} --help does not show its usage`);
    commands.set(name, optionFlags(r.stdout));
  }
  return { commands, global };
}

/** The code of a Markdown text, one entry per line: fenced blocks' lines and inline code spans. */
function codeLines(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => (m[1] ?? "").split("\n"));
  const prose = markdown.replace(/```[a-z]*\n[\s\S]*?```/g, "");
  const spans = [...prose.matchAll(/`([^`]+)`/g)].map((m) => (m[1] ?? "").replace(/\s*\n\s*/g, " "));
  return [...fenced, ...spans];
}

/** Each `wf <word> ...` in a line of code: the word and the options up to the end of that shell command. */
function invocations(line: string): { command: string; flags: string[] }[] {
  const out: { command: string; flags: string[] }[] = [];
  for (const m of line.matchAll(/\bwf(?:\.js)? ([a-z][\w-]*)([^|;&>)#]*)/g)) {
    const flags = [...(m[2] ?? "").matchAll(/(?<![\w-])--?[a-zA-Z][\w-]*/g)].map((f) => f[0]);
    out.push({ command: m[1] ?? "", flags });
  }
  return out;
}

/** The sections of docs/cli.md that belong to a command, as command name to the section's lines. */
function commandSections(markdown: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string | undefined;
  for (const line of markdown.split("\n")) {
    const heading = /^(#{2,3}) (.*)$/.exec(line);
    if (heading) {
      const command = /^`wf ([a-z]+)\b[^`]*`$/.exec(heading[2] ?? "")?.[1];
      if (command !== undefined) current = command;
      else if (heading[1] === "##") current = undefined;
      if (command !== undefined) sections.set(command, []);
      continue;
    }
    if (current !== undefined) sections.get(current)?.push(line);
  }
  return sections;
}

/** The options in the first column of a section's tables. */
function tableFlags(lines: string[]): Set<string> {
  const flags = new Set<string>();
  for (const line of lines) {
    if (!line.startsWith("|")) continue;
    const first = line.split("|")[1] ?? "";
    for (const m of first.matchAll(/`[^`]*`/g)) for (const f of m[0].matchAll(/(?<![\w-])--?[a-zA-Z][\w-]*/g)) flags.add(f[0]);
  }
  return flags;
}

test("README.md and docs/cli.md show only real commands and options, and docs/cli.md shows them all", async () => {
  await using rig = await TestRig.create();
  const help = await realHelp(rig);
  const everyFlag = new Set([...help.global, ...[...help.commands.values()].flatMap((s) => [...s])]);
  const cli = readFileSync(join(repoRoot(), "docs/cli.md"), "utf8");

  // Every command and every option of the real help is in docs/cli.md, under that command.
  const sections = commandSections(cli);
  for (const [command, flags] of help.commands) {
    const section = sections.get(command);
    assert.ok(section !== undefined, `docs/cli.md has no section for "wf ${command}"`);
    const documented = tableFlags(section);
    for (const flag of flags) {
      if (help.global.has(flag)) continue; // In "Options of every command".
      assert.ok(documented.has(flag), `docs/cli.md does not document ${flag} of "wf ${command}"`);
    }
    for (const flag of documented) {
      assert.ok(flags.has(flag) || help.global.has(flag), `docs/cli.md documents ${flag} for "wf ${command}", which it does not take`);
    }
  }
  const everyCommandSection = cli.split("## Options of every command")[1]?.split("\n## ")[0] ?? "";
  for (const flag of help.global) assert.ok(tableFlags(everyCommandSection.split("\n")).has(flag), `docs/cli.md does not document ${flag}`);

  // Every `wf <command>` and option shown in code in either document is real.
  for (const doc of DOCS) {
    const lines = codeLines(readFileSync(join(repoRoot(), doc), "utf8"));
    let shown = 0;
    for (const line of lines) {
      for (const { command, flags } of invocations(line)) {
        if (NOT_COMMANDS.has(command)) continue;
        shown++;
        if (command === "help") continue; // `wf help [command]`
        const own = help.commands.get(command);
        assert.ok(own !== undefined, `${doc} shows "wf ${command}", which is not a command: ${line}`);
        for (const flag of flags) {
          assert.ok(own.has(flag) || help.global.has(flag), `${doc} passes ${flag} to "wf ${command}", which does not take it: ${line}`);
        }
      }
      for (const m of line.matchAll(/(?<![\w-])--?[a-zA-Z][\w-]*/g)) {
        const flag = m[0];
        // A short option glued to a value or a negative number (`-1`) is not matched: options start with a letter.
        assert.ok(everyFlag.has(flag) || OTHER_TOOLS.has(flag), `${doc} shows ${flag}, which no wf command takes: ${line}`);
      }
    }
    assert.ok(shown >= 20, `${doc}: only ${shown} wf commands found in its code`);
  }
});
