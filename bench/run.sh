#!/usr/bin/env bash
# Benchmarks on the real dataset: the data pipeline (prepare + all batches + clean) and a training job, through the
# services' HTTP APIs (Release builds), with a private PostgreSQL and S3 server and the MLflow double. Prints figures.
# `bench/run.sh pipeline` times the data pipeline alone. PostgreSQL keeps fsync on, its default.
# `bench/run.sh cv` scores every candidate in patient-grouped 5-fold cross-validation instead (no services needed).
# `bench/run.sh serving` loads the inference API with wrk (Debian's package): single predictions at concurrency 1 and
# 32, batches of 1,000, a model swap under load, memory, and engine pool against transformer; concurrency 32 with the
# prediction log off and on in alternate rounds (the log's counters read after each round), and the drift query over
# 1,000,000 logged predictions, on a private PostgreSQL (fsync on) whose database `monitoring` holds the log.
# `bench/run.sh drift` times the drift query alone.
# `bench/run.sh scale N [rounds]` measures how cost grows with the data: it makes an N-times dataset from the real one
# (copy c of each line has c * 10^9 added to encounter_id and patient_nbr: copies share no patient and follow one
# another in encounter_id order), runs the pipeline and a training job on the real dataset and on it, alternately,
# `rounds` times each (default 2), each run on fresh databases and freshly started services, and prints 1x and Nx side
# by side: each step's time and rows per second, the ingest service's peak resident memory in each step, the trainer's,
# the machine's load average, and the trainer's memory growth per 100,000 rows.
# `bench/run.sh traffic --url URL [options]` sends encounters of a split to a running inference API, at a rate, optionally
# shifting inputs and recording outcomes (docs/benchmarks.md, "Traffic"; `bench/run.sh traffic --help` lists the options).
# Usage: bench/run.sh [pipeline|cv|serving|drift] [path to dataset_diabetes.zip]
#        bench/run.sh scale N [rounds] [path to dataset_diabetes.zip]
#        bench/run.sh traffic --url http://host:port [--split S] [--rate N] [--limit N] [--outcomes] [--shift field=change]... [dataset zip]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mode=services
if [[ ${1:-} == cv || ${1:-} == serving || ${1:-} == drift || ${1:-} == pipeline || ${1:-} == traffic ]]; then mode=$1; shift; fi
if [[ ${1:-} == scale ]]; then
    mode=scale
    factor=${2:-}
    [[ $factor =~ ^[0-9]+$ && $factor -ge 2 ]] || { echo "usage: bench/run.sh scale N [rounds] [dataset zip], N >= 2" >&2; exit 2; }
    shift 2
    rounds=2
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
fi
bench_dll=$root/artifacts/bin/Diabetes.Bench/release/Diabetes.Bench.dll

dotnet build "$root/bench/Diabetes.Bench" -c Release -v quiet -nologo >/dev/null
if [[ $mode == traffic ]]; then
    DIABETES_DATASET=${DIABETES_DATASET:-$root/../shared/data/dataset_diabetes.zip} exec dotnet "$bench_dll" traffic "$@"
fi
dataset=${1:-$root/../shared/data/dataset_diabetes.zip}
if [[ $mode == cv ]]; then
    exec dotnet "$bench_dll" cv "$dataset"
fi
if [[ $mode == serving ]]; then
    command -v wrk >/dev/null || { echo "the serving benchmark needs wrk: apt-get install wrk" >&2; exit 1; }
fi

source "$root/tests/servers.sh"
trap stop_test_servers EXIT
PG_FSYNC=on start_test_servers
if [[ $mode == serving || $mode == drift ]]; then
    # Model folders go through the MLflow double's artifact API; the prediction log goes to PostgreSQL.
    psql "host=127.0.0.1 port=$PG_PORT user=postgres" -q -c "CREATE DATABASE monitoring"
    dotnet "$bench_dll" "$mode" "$root/artifacts/bin" "$dataset" "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=monitoring"
    exit
fi
psql "host=127.0.0.1 port=$PG_PORT user=postgres" -q -c "CREATE DATABASE rawdata" -c "CREATE DATABASE cleandata"

bench_args=("$root/artifacts/bin")
if [[ $mode == pipeline ]]; then bench_args+=(pipeline); fi
if [[ $mode == scale ]]; then bench_args+=(scale "$factor" "$rounds" "$dataset"); fi
ConnectionStrings__rawdata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=rawdata" \
ConnectionStrings__cleandata="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=cleandata" \
ConnectionStrings__minio="$DIABETES_TEST_S3" \
Dataset__Source="$dataset" \
    dotnet "$bench_dll" "${bench_args[@]}"
