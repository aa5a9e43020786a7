#!/bin/sh
# Creates the artifact bucket if it is missing (nobody else does), then runs the tracking server, starting it again
# whenever it stops (the container or pod restart policy covers a crash of this script itself).
# Configuration (set by the AppHost or the Kubernetes manifests):
#   MLFLOW_BACKEND_STORE_URI      postgresql+psycopg2://user:password@host:port/mlflowdb
#   MLFLOW_ARTIFACTS_DESTINATION  s3://mlflow
#   MLFLOW_S3_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY   the MinIO server
#   MLFLOW_SERVER_ALLOWED_HOSTS   Host headers accepted (MLflow 3.5+), e.g. mlflow,mlflow:*,localhost:*
#   MLFLOW_WORKERS                server processes (MLflow's own variable for --workers); default 2 here, where
#                                 MLflow's default of 4 is too many for a small VM
#   MLFLOW_PORT                   the port served; default 5000
#   MLFLOW_STOP_TIMEOUT           seconds a stopping server gets before it is killed; default 20, well inside
#                                 Kubernetes' 30 s grace period
#
# The server is uvicorn, MLflow 3's default, chosen here on purpose (not gunicorn through --gunicorn-opts, which in 3.9
# serves Flask directly): it is what the platform is tested against. Its WSGI bridge reads a request body sent chunked as empty, so every client must send
# Content-Length (the platform's MLflow client always does). Keep-alive is 75 s, longer than the 60 s a .NET client
# keeps an idle connection, so a client never reuses a connection the server has just closed.
#
# `mlflow server` is only a parent: it starts uvicorn (a master and its workers) and a job runner with its consumers,
# then waits, and passes no signal on. Killed, it leaves them holding the port; stopped, it leaves them running. So it
# runs in a session of its own, and every stop or restart ends the whole session, waits for it, and checks that the
# port is free before a new server starts.
set -u
workers="${MLFLOW_WORKERS:-2}"
port="${MLFLOW_PORT:-5000}"
stop_timeout="${MLFLOW_STOP_TIMEOUT:-20}"

log() {
    echo "mlflow-entrypoint: $*" >&2
}

# Checked now: shell arithmetic on a value such as "20s" would end this process at its first stop, not at start.
for setting in "MLFLOW_WORKERS=$workers" "MLFLOW_PORT=$port" "MLFLOW_STOP_TIMEOUT=$stop_timeout"; do
    case "${setting#*=}" in
        '' | *[!0-9]*) log "${setting%%=*} must be a whole number, not '${setting#*=}'"; exit 1 ;;
    esac
done

# Sleeps in the background, so that a stop request is handled at once rather than after the pause.
pause() {
    sleep "$1" &
    wait $!
}

# This shell is PID 1: a stop request is noted at once (it interrupts wait) and handled where the work allows.
stopping=0
trap 'stopping=1' TERM INT

python - <<'PY' &
import os, sys, time
import boto3, botocore

bucket = os.environ["MLFLOW_ARTIFACTS_DESTINATION"].removeprefix("s3://").split("/")[0]
s3 = boto3.client("s3", endpoint_url=os.environ["MLFLOW_S3_ENDPOINT_URL"])
for attempt in range(60):
    try:
        s3.head_bucket(Bucket=bucket)
        print(f"artifact bucket {bucket} exists", flush=True)
        break
    except botocore.exceptions.ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("404", "NoSuchBucket"):
            s3.create_bucket(Bucket=bucket)
            print(f"created artifact bucket {bucket}", flush=True)
            break
        if not code.startswith("5"):
            raise
        print(f"object store answered {code} (attempt {attempt + 1}); waiting", flush=True)
        time.sleep(2)
    except botocore.exceptions.EndpointConnectionError:
        print(f"object store not reachable yet (attempt {attempt + 1}); waiting", flush=True)
        time.sleep(2)
else:
    sys.exit("the object store never answered")
PY
bucket_step=$!
wait "$bucket_step"
status=$?
if [ "$stopping" -eq 1 ]; then
    kill -TERM "$bucket_step" 2>/dev/null
    log "stopped before the server started"
    exit 0
fi
[ "$status" -eq 0 ] || exit 1

# The live processes of a session, from /proc (the image has no ps). A stat line is "pid (comm) state ppid pgrp
# session ...", where comm may hold spaces and parentheses: everything up to the last ") " is cut first.
session_processes() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v session="$1" '{ pid = $1; sub(/.*\) /, ""); if ($4 == session && $1 != "Z") print pid }'
}

# Whether anything listens on the port, from /proc/net/tcp and tcp6 (state 0A is LISTEN; ports are hexadecimal). A
# kernel without IPv6 has no tcp6 file, on which awk would stop before it read the other: cat reads what there is.
port_in_use() {
    cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk -v port="$(printf ':%04X' "$port")" \
        '$4 == "0A" && substr($2, length($2) - 4) == port { found = 1 } END { exit !found }'
}

# Waits up to $2 seconds until no live process is left in session $1; fails if some remain.
await_session_end() {
    ticks=$(($2 * 5))
    while [ -n "$(session_processes "$1")" ]; do
        [ "$ticks" -gt 0 ] || return 1
        pause 0.2
        ticks=$((ticks - 1))
    done
}

# Ends every process of a server's session: TERM, then KILL for what is left after the stop timeout.
end_session() {
    left=$(session_processes "$1")
    [ -n "$left" ] || return 0
    log "stopping $(echo $left | wc -w) processes of the server's session $1: $(echo $left)"
    kill -TERM $left 2>/dev/null
    await_session_end "$1" "$stop_timeout" && return 0
    left=$(session_processes "$1")
    log "killing $(echo $left | wc -w) processes still running after ${stop_timeout} s: $(echo $left)"
    kill -KILL $left 2>/dev/null
    await_session_end "$1" 10 || log "processes of session $1 outlived KILL: $(session_processes "$1")"
}

# setsid runs in the child after the fork: until then its processes are not in their session, where a stop looks for
# them. Waits (5 s at most) until the server leads its session or has ended.
await_own_session() {
    ticks=100
    while [ "$ticks" -gt 0 ] && kill -0 "$1" 2>/dev/null &&
        [ "$(awk '{ sub(/.*\) /, ""); print $4 }' "/proc/$1/stat" 2>/dev/null)" != "$1" ]; do
        pause 0.05
        ticks=$((ticks - 1))
    done
}

describe_exit() {
    if [ "$1" -gt 128 ]; then
        echo "killed by signal $(($1 - 128))"
    else
        echo "exit code $1"
    fi
}

server=

while [ "$stopping" -eq 0 ]; do
    if [ -n "$server" ]; then
        # What the last server left behind (orphaned uvicorn workers keep the port) goes before a new one starts.
        end_session "$server"
        while [ "$stopping" -eq 0 ] && port_in_use; do
            log "port $port is still in use by a process outside the server's session; waiting for it"
            pause 5
        done
        [ "$stopping" -eq 0 ] || break
    fi
    log "starting mlflow server on port $port: uvicorn, $workers workers"
    # Started from a shell without job control, the command is no process group leader, so setsid gives it a new
    # session in place: its process id is the session's id.
    setsid mlflow server \
        --host 0.0.0.0 \
        --port "$port" \
        --workers "$workers" \
        --uvicorn-opts "--timeout-keep-alive 75" \
        --backend-store-uri "$MLFLOW_BACKEND_STORE_URI" \
        --artifacts-destination "$MLFLOW_ARTIFACTS_DESTINATION" \
        --serve-artifacts \
        --allowed-hosts "$MLFLOW_SERVER_ALLOWED_HOSTS" &
    server=$!
    await_own_session "$server"
    [ "$stopping" -eq 1 ] || wait "$server"
    status=$?
    # A stop request interrupts wait while the server still runs.
    [ "$stopping" -eq 1 ] && break
    log "mlflow server stopped ($(describe_exit "$status")); starting it again in 5 s, once what is left of it has stopped"
    pause 5
done

if [ -n "$server" ]; then
    log "stop requested: stopping the server"
    end_session "$server"
    wait "$server" 2>/dev/null
fi
log "stopped"
exit 0
