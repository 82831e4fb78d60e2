#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine, for the tests:
#
#   scripts/slurm-cluster.sh start    install slurm-wlm and munge if missing
#                                     (root, apt-get), write the configuration,
#                                     start munged, slurmctld and slurmd, wait
#                                     until the node is idle, print the env
#   scripts/slurm-cluster.sh stop     end the three daemons by their pids
#   scripts/slurm-cluster.sh status   print the env and exit 0 if it runs,
#                                     exit 1 if it does not
#   scripts/slurm-cluster.sh env      print the env lines only
#   scripts/slurm-cluster.sh start --lease PID, release PID
#                                     the same, shared by test processes: the
#                                     last release stops a cluster that a lease
#                                     started (see lease() below)
#
# Everything lives in one directory, $WF_SLURM_DIR (default: wf-slurm under
# $TMPDIR or /tmp): slurm.conf, the munge key and socket, the daemons' state,
# logs and pid files, and jobcomp.txt, the scheduler's own record of every job
# that ended (one line per job). `start` on a running cluster only prints the
# env, and two `start`s at once wait for each other. The env lines are
# `export NAME=value`, for `eval "$(scripts/slurm-cluster.sh start)"`; all
# other output goes to stderr. The settings suit containers without cgroups
# or systemd; see docs/slurm.md.
set -euo pipefail

dir=${WF_SLURM_DIR:-${TMPDIR:-/tmp}/wf-slurm}
ctld_port=${WF_SLURM_PORT:-6817}
slurmd_port=$((ctld_port + 1))
packages=(slurm-wlm munge)
sbin=/usr/sbin

say() { echo "slurm-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

print_env() {
  echo "export SLURM_CONF=$dir/slurm.conf"
  echo "export WF_SLURM_DIR=$dir"
  echo "export WF_SLURM_JOBCOMP=$dir/jobcomp.txt"
}

# The pid recorded for a daemon if that process still runs it.
live_pid() {
  local file=$dir/$1.pid pid
  [ -f "$file" ] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # /proc, not kill -0, so that `status` works for users other than root. The name guards
  # against a pid recycled by some other program.
  [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$1"* ]] || return 1
  echo "$pid"
}

node_state() {
  SLURM_CONF=$dir/slurm.conf sinfo --noheader --node "$node" --format '%T' 2>/dev/null | head -n 1
}

running() {
  live_pid munged >/dev/null && live_pid slurmctld >/dev/null && live_pid slurmd >/dev/null || return 1
  case $(node_state) in idle | mixed | allocated | completing) return 0 ;; esac
  return 1
}

install_packages() {
  local missing=()
  command -v munged >/dev/null 2>&1 || [ -x $sbin/munged ] || missing+=(munge)
  { [ -x $sbin/slurmctld ] && [ -x $sbin/slurmd ] && command -v sbatch >/dev/null 2>&1; } || missing+=(slurm-wlm)
  ((${#missing[@]} == 0)) && return 0
  [ "$(id -u)" -eq 0 ] || die "cannot install ${missing[*]}: not root"
  command -v apt-get >/dev/null 2>&1 || die "cannot install ${missing[*]}: no apt-get"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${packages[@]}" </dev/null >&2 ||
    { apt-get update </dev/null >&2 && apt-get install -y --no-install-recommends "${packages[@]}" </dev/null >&2; } ||
    die "cannot install ${missing[*]}: apt-get failed"
}

write_config() {
  mkdir -p "$dir/ctld" "$dir/spool/$node" "$dir/munge"
  chmod 0755 "$dir" "$dir/ctld" "$dir/spool" "$dir/spool/$node"
  # munged checks that its key and socket are its own and not writable by others.
  if [ ! -s "$dir/munge/munge.key" ]; then
    head -c 1024 /dev/urandom >"$dir/munge/munge.key"
  fi
  chown -R munge:munge "$dir/munge"
  chmod 0700 "$dir/munge"
  chmod 0400 "$dir/munge/munge.key"
  # The socket lives apart from the key so that clients may reach it.
  mkdir -p "$dir/munge-run"
  chown munge:munge "$dir/munge-run"
  chmod 0755 "$dir/munge-run"

  local cpus memory
  cpus=$(nproc)
  # slurmd drains a node that has less memory than configured: take what it sees.
  memory=$($sbin/slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -n 1)
  cat >"$dir/slurm.conf" <<EOF
# Written by scripts/slurm-cluster.sh: a single-node cluster for the tests.
ClusterName=wf-test
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge-run/munge.socket
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/slurmctld.daemon.pid
SlurmdPidFile=$dir/slurmd.daemon.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
# No cgroups, no systemd in these containers.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
# The scheduler's own record of every job that ended, one line each.
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
# Ended jobs stay visible to scontrol for this many seconds (default 300).
MinJobAge=300
# A job past its time limit is killed at once, not after a minute of grace.
OverTimeLimit=0
KillWait=5
MailProg=/bin/true
# Fast scheduling for short test jobs.
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SlurmctldTimeout=30
SlurmdTimeout=60
NodeName=$node CPUs=$cpus RealMemory=${memory:-1} State=UNKNOWN
PartitionName=debug Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF
}

start_daemon() {
  local name=$1
  shift
  # setsid: a new session, so that the daemon outlives this script's terminal
  # and process group; it runs in the foreground, so $! is its pid.
  # 9>&-: the daemon must not inherit, and so hold, the lock of this script.
  setsid "$@" </dev/null >>"$dir/$name.out" 2>&1 9>&- &
  local pid=$! i
  echo "$pid" >"$dir/$name.pid"
  # Until it has exec'd, the child is still a copy of this shell: live_pid would not know it.
  for ((i = 0; i < 500; i++)); do
    [[ $(cat "/proc/$pid/comm" 2>/dev/null) == "$name"* ]] && return 0
    kill -0 "$pid" 2>/dev/null || fail "$name did not start; see $dir/$name.out"
    sleep 0.01
  done
  fail "$name did not start within 5 s; see $dir/$name.out"
}

# die, after stopping whatever this start started.
fail() {
  stop_daemons
  die "$@"
}

start() {
  install_packages
  if running; then
    print_env
    return 0
  fi
  stop_daemons
  write_config
  rm -f "$dir/munge-run/munge.socket"
  # Without the saved node state the node is idle only once slurmd has registered; the
  # saved jobs stay, so job ids go on from the last start.
  rm -f "$dir/ctld/node_state" "$dir/ctld/node_state.old"
  start_daemon munged setpriv --reuid=munge --regid=munge --init-groups -- \
    $sbin/munged --foreground --force \
    --key-file="$dir/munge/munge.key" --socket="$dir/munge-run/munge.socket" \
    --pid-file="$dir/munge-run/munged.pid" --seed-file="$dir/munge/munged.seed" \
    --log-file="$dir/munge/munged.log"
  wait_for "munged's socket" 100 test -S "$dir/munge-run/munge.socket"
  start_daemon slurmctld $sbin/slurmctld -D -i -f "$dir/slurm.conf"
  start_daemon slurmd $sbin/slurmd -D -f "$dir/slurm.conf" -N "$node"
  wait_for "the node to be idle" 300 node_idle
  print_env
}

node_idle() {
  live_pid slurmctld >/dev/null || fail "slurmctld ended; see $dir/slurmctld.log and $dir/slurmctld.out"
  live_pid slurmd >/dev/null || fail "slurmd ended; see $dir/slurmd.log and $dir/slurmd.out"
  [ "$(node_state)" = idle ]
}

# wait_for WHAT TENTHS COMMAND...: retry COMMAND every 0.1 s.
wait_for() {
  local what=$1 tenths=$2 i
  shift 2
  for ((i = 0; i < tenths; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  fail "gave up waiting for $what after $((tenths / 10)) s; logs in $dir"
}

# SIGTERM to the three at once (each takes a second or two to end), SIGKILL after 10 s.
stop_daemons() {
  local name pid pids=() i alive
  for name in slurmd slurmctld munged; do
    if pid=$(live_pid "$name"); then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
  done
  for ((i = 0; i < 100; i++)); do
    alive=0
    for pid in ${pids[@]+"${pids[@]}"}; do
      if kill -0 "$pid" 2>/dev/null; then alive=1; fi
    done
    ((alive == 1)) || break
    sleep 0.1
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$dir/slurmd.pid" "$dir/slurmctld.pid" "$dir/munged.pid" "$dir/leased"
}

# Leases let test processes share one cluster: `start --lease PID` starts it if needed
# (and then notes that leases own it), `release PID` drops PID's lease and, if the cluster
# was started for leases and no live process holds one any more, stops it. A cluster
# started by a plain `start` is never stopped by a release.
lease() {
  local was_running=1
  running || was_running=0
  start
  mkdir -p "$dir/leases"
  : >"$dir/leases/$1"
  if ((was_running == 0)); then : >"$dir/leased"; fi
}

release() {
  local file pid
  rm -f "$dir/leases/$1"
  for file in "$dir"/leases/*; do
    [ -e "$file" ] || continue
    pid=${file##*/}
    if kill -0 "$pid" 2>/dev/null; then return 0; fi
    rm -f "$file"
  done
  if [ -e "$dir/leased" ]; then stop_daemons; fi
}

node=$(hostname -s)
command=${1:-}
case $command in
  start | stop | release)
    mkdir -p "$dir"
    exec 9>"$dir/lock"
    flock 9
    case $command in
      start)
        if [ "${2:-}" = --lease ]; then
          [[ ${3:-} =~ ^[0-9]+$ ]] || die "start --lease needs a pid"
          lease "$3"
        else
          start
        fi
        ;;
      stop) stop_daemons ;;
      release)
        [[ ${2:-} =~ ^[0-9]+$ ]] || die "release needs a pid"
        release "$2"
        ;;
    esac
    ;;
  status)
    if [ -d "$dir" ] && running; then print_env; else say "not running"; exit 1; fi
    ;;
  env) print_env ;;
  *)
    echo "usage: $0 start [--lease PID] | release PID | stop | status | env" >&2
    exit 2
    ;;
esac
