// Loaded with node --require by bench/spawn-cpu.sh: at exit, appends this
// process's own CPU time (user and system, ms) and its role (wf or launcher)
// to the file named by WF_BENCH_CPU_FILE.
const { appendFileSync } = require("node:fs");
process.on("exit", () => {
  const file = process.env.WF_BENCH_CPU_FILE;
  if (file === undefined) return;
  const u = process.cpuUsage();
  const role = process.argv.includes("__wf-launcher") ? "launcher" : "wf";
  appendFileSync(file, `${role} ${Math.round(u.user / 1000)} ${Math.round(u.system / 1000)}\n`);
});
