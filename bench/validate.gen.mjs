// Writes the two workflows bench/validate.sh times:
//   chain.toml: N tasks in one chain, each registering a variable its dependent reads;
//   wide.toml:  N independent tasks reading V variables from [vars].
// Usage: node bench/validate.gen.mjs <dir> [N=20000] [V=10000]
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, n = "20000", v = "10000"] = process.argv.slice(2);
if (dir === undefined) {
  console.error("usage: node bench/validate.gen.mjs <dir> [tasks] [vars]");
  process.exit(2);
}
const tasks = Number(n);
const vars = Number(v);
const id = (i) => `t${String(i).padStart(5, "0")}`;

const chain = ['name = "chain"', ""];
for (let i = 0; i < tasks; i++) {
  chain.push(`[tasks.${id(i)}]`);
  chain.push(i === 0 ? 'cmd = "echo 0"' : `cmd = "echo {{.out_${i - 1}}}"`);
  chain.push(`register = "out_${i}"`);
  if (i > 0) chain.push(`depends_on = ["${id(i - 1)}"]`);
  chain.push("");
}
writeFileSync(join(dir, "chain.toml"), chain.join("\n"));

const wide = ['name = "wide"', "", "[vars]"];
for (let i = 0; i < vars; i++) wide.push(`v${i} = "${i}"`);
wide.push("");
for (let i = 0; i < tasks; i++) {
  wide.push(`[tasks.${id(i)}]`);
  wide.push(`cmd = "echo {{.v${i % vars}}} {{.v${(i * 7) % vars}}}"`);
  wide.push("");
}
writeFileSync(join(dir, "wide.toml"), wide.join("\n"));
