#!/usr/bin/env bash
# Benchmark of the data pipeline: prepare + all train batches + clean on the real dataset, against a freshly
# started Diabetes.Ingest (Release) with a private PostgreSQL and S3 server. Prints the figures.
# Usage: bench/run-ingest.sh [path to dataset_diabetes.zip]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dataset=${1:-$root/../shared/data/dataset_diabetes.zip}
source "$root/tests/servers.sh"
trap 'kill "${ingest_pid:-}" 2>/dev/null || true; stop_test_servers' EXIT

dotnet build "$root/bench/Diabetes.Bench" -c Release -v quiet -nologo >/dev/null
start_test_servers
psql "host=127.0.0.1 port=$PG_PORT user=postgres" -q -c "CREATE DATABASE rawdata" -c "CREATE DATABASE cleandata"

port=$(free_port)
ConnectionStrings__rawdata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=rawdata" \
ConnectionStrings__cleandata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=cleandata" \
ConnectionStrings__minio="$DIABETES_TEST_S3" \
Dataset__Source="$dataset" \
Logging__LogLevel__Default=Warning \
    dotnet "$root/artifacts/bin/Diabetes.Ingest/release/Diabetes.Ingest.dll" --urls "http://127.0.0.1:$port" &
ingest_pid=$!
for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.2
done

dotnet "$root/artifacts/bin/Diabetes.Bench/release/Diabetes.Bench.dll" ingest "http://127.0.0.1:$port"
echo "  ingest service peak RSS: $(awk '/VmHWM/ {printf "%d MiB", $2 / 1024}' "/proc/$ingest_pid/status")"
