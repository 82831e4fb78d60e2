# Sourced by every bench/*.sh, from the repository root. bench_setup NAME
# [TOOL...] checks that hyperfine (and each TOOL) is installed and that dist/
# is built, then sets $wf (the CLI: $WF_CLI or node bin/wf.js), $work (a
# temporary folder, removed at exit) and $json and $md (where hyperfine's
# exports go: bench/results/NAME-<date>.json and .md).
bench_setup() {
  local name=$1 tool package stamp
  shift
  for tool in hyperfine "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1; then
      package=$tool
      [ "$tool" = ninja ] && package=ninja-build
      [ "$tool" = cc ] && package=gcc
      echo "$tool is not installed: apt-get update && apt-get install -y $package" >&2
      exit 2
    fi
  done
  if [ ! -f dist/src/main.js ]; then
    echo "dist/ is missing: run npm run build first" >&2
    exit 2
  fi
  wf=${WF_CLI:-node bin/wf.js}
  work=$(mktemp -d "${TMPDIR:-/tmp}/wf-bench-$name.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  mkdir -p bench/results
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  json=bench/results/$name-$stamp.json
  md=bench/results/$name-$stamp.md
}

# spawn_workload TASKS writes the task-start workload into $work: spawn.toml
# (TASKS independent tasks running `true`), build.ninja (the same commands as
# `/bin/sh -c true`; ninja's outputs are never made, so every run runs them
# all), logged/build.ninja (the same, each command's stdout and stderr
# redirected to two files of its own under logged/logs, which must exist), and
# $work/spawn-floor, bench/spawn-floor.c built with cc.
spawn_workload() {
  local tasks=$1 i
  {
    echo 'name = "spawn"'
    for ((i = 0; i < tasks; i++)); do printf '[tasks.t%d]\ncmd = "true"\n' "$i"; done
  } >"$work/spawn.toml"
  {
    printf 'rule run\n  command = /bin/sh -c true\n'
    for ((i = 0; i < tasks; i++)); do printf 'build o%d: run\n' "$i"; done
  } >"$work/build.ninja"
  mkdir -p "$work/logged"
  {
    printf 'rule run\n  command = /bin/sh -c true >logs/$out.stdout.log 2>logs/$out.stderr.log\n'
    for ((i = 0; i < tasks; i++)); do printf 'build o%d: run\n' "$i"; done
  } >"$work/logged/build.ninja"
  cc -O2 -o "$work/spawn-floor" bench/spawn-floor.c
}
