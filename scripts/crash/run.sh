#!/usr/bin/env bash
# The crash test with many rounds: kill -9 of a node under load, then the ledger, the leases and the usage rows checked
# (platform/server/src/test/java/co/corouter/server/it/CrashRecoveryTest.java; the test suite runs it with 20 rounds).
#   scripts/crash/run.sh                 100 rounds
#   scripts/crash/run.sh 500             500 rounds
#   scripts/crash/run.sh 100 -o          further arguments go to both Maven runs (here: offline)
#   COROUTER_CRASH_SEED=<seed> scripts/crash/run.sh 20     replays a failed run (its seed is the summary's first line)
# Works from a fresh clone: the first Maven run builds and installs what the server's tests need (Java 17, Maven and
# npm, as every build); the second runs only this test. The nodes' logs and the numbers of every round are in
# platform/server/target/crash-logs/ (summary.txt, printed at the end).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
rounds=${1:-100}
[ $# -gt 0 ] && shift
case "$rounds" in
  '' | *[!0-9]*) echo "usage: scripts/crash/run.sh [rounds] [maven arguments...]" >&2; exit 2 ;;
esac
properties=("-Dcrash.rounds=$rounds")
if [ -n "${COROUTER_CRASH_SEED:-}" ]; then
  properties+=("-Dcrash.seed=$COROUTER_CRASH_SEED")
fi
mvn -B -q install -DskipTests -pl platform/server -am "$@"
status=0
mvn -B test -pl platform/server -Dtest=CrashRecoveryTest -Dsurefire.failIfNoSpecifiedTests=false \
  "${properties[@]}" "$@" || status=$?
summary=platform/server/target/crash-logs/summary.txt
if [ -f "$summary" ]; then
  cat "$summary"
fi
exit "$status"
