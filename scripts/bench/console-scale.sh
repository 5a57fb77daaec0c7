#!/usr/bin/env bash
# The console's queries at scale: seeds one account with 1,000,000 generations (and the matching usage_daily rows) in
# an embedded PostgreSQL of its own, then times the dashboard, activity (30 days by model, 366 days by key) and the
# generations pages through the server's real query code. Targets: aggregates < 200 ms, first page < 100 ms.
#   scripts/bench/console-scale.sh [rows]      (default 1000000; needs the modules built once: mvn -o install -DskipTests)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS="${1:-1000000}"
mvn -B -q -o test-compile -pl platform/server
CP_FILE="$(mktemp)"
trap 'rm -f "$CP_FILE"' EXIT
mvn -B -q -o dependency:build-classpath -pl platform/server -Dmdep.outputFile="$CP_FILE" -Dmdep.includeScope=test
java -cp "platform/server/target/test-classes:platform/server/target/classes:$(cat "$CP_FILE")" \
    co.corouter.server.bench.ConsoleScaleBench "$ROWS"
