#!/usr/bin/env bash
# Benchmarks on the real dataset: the data pipeline (prepare + all batches + clean) and a training job, through the
# services' HTTP APIs (Release builds), with a private PostgreSQL and S3 server and the MLflow double. Prints figures.
# Usage: bench/run.sh [path to dataset_diabetes.zip]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dataset=${1:-$root/../shared/data/dataset_diabetes.zip}
source "$root/tests/servers.sh"
trap stop_test_servers EXIT

dotnet build "$root/bench/Diabetes.Bench" -c Release -v quiet -nologo >/dev/null
start_test_servers
psql "host=127.0.0.1 port=$PG_PORT user=postgres" -q -c "CREATE DATABASE rawdata" -c "CREATE DATABASE cleandata"

ConnectionStrings__rawdata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=rawdata" \
ConnectionStrings__cleandata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=cleandata" \
ConnectionStrings__minio="$DIABETES_TEST_S3" \
Dataset__Source="$dataset" \
    dotnet "$root/artifacts/bin/Diabetes.Bench/release/Diabetes.Bench.dll" "$root/artifacts/bin"
