#!/usr/bin/env bash
# Runs every test against real servers: starts a private PostgreSQL 15 and an S3 server (tests/servers.sh),
# runs `dotnet test Diabetes.sln`, stops the servers, and ends with the line
#   tests: N passed, N failed, N skipped
# counted from the TRX results. Exits non-zero on any failure (or when no result was written).
# Extra arguments go to `dotnet test` (for example --filter "FullyQualifiedName~Pipeline").
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/tests/servers.sh"

results=$(mktemp -d /tmp/diabetes-test-results.XXXXXX)
trap 'stop_test_servers; rm -rf "$results"' EXIT

start_test_servers || { echo "tests: 0 passed, 0 failed, 0 skipped"; exit 1; }

dotnet test "$root/Diabetes.sln" --results-directory "$results" --logger "trx;LogFilePrefix=results" "$@"
test_exit=$?

# Sum the counters of every TRX file (one per test project).
read -r passed failed skipped files < <(python3 - "$results" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
passed = failed = skipped = files = 0
for path in glob.glob(f"{sys.argv[1]}/**/*.trx", recursive=True):
    counters = ET.parse(path).getroot().find(".//{*}ResultSummary/{*}Counters")
    files += 1
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
    skipped += int(counters.get("notExecuted", 0))
print(passed, failed, skipped, files)
PY
)

echo "test result files: $files"
[ -d "$root/artifacts/screenshots" ] && echo "screenshots of the web pages: $root/artifacts/screenshots"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$test_exit" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$files" -eq 0 ]; then
    exit 1
fi
