#!/usr/bin/env bash
# Runs the property-based tests (test/fuzz/) longer than CI does, with a random
# seed printed first, so a failure can be replayed exactly:
#
#   scripts/fuzz.sh                        # 5,000 cases per property, random seed, node
#   WF_FUZZ_RUNS=50000 scripts/fuzz.sh
#   WF_FUZZ_SEED=123456 scripts/fuzz.sh    # replay a failure
#   FUZZ_RUNTIME=deno scripts/fuzz.sh      # the same properties on Deno
#
# fast-check also prints the seed and a path for the smallest failing case.
set -euo pipefail

cd "$(dirname "$0")/.."

seed=${WF_FUZZ_SEED:-$(node -e 'console.log(require("node:crypto").randomInt(2 ** 31))')}
runs=${WF_FUZZ_RUNS:-5000}
echo "WF_FUZZ_SEED=$seed WF_FUZZ_RUNS=$runs"
export WF_FUZZ_SEED=$seed WF_FUZZ_RUNS=$runs

case ${FUZZ_RUNTIME:-node} in
  node)
    npm run --silent build
    node --test dist/test/fuzz/
    ;;
  deno)
    npx deno test -A --no-check test/fuzz/
    ;;
  *)
    echo "FUZZ_RUNTIME must be node or deno, not \"$FUZZ_RUNTIME\"" >&2
    exit 2
    ;;
esac
