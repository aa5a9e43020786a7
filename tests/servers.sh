#!/usr/bin/env bash
# Starts the real servers the tests need, as processes (no container runtime needed):
# a private PostgreSQL 15 (initdb in a temporary folder, loopback, a free port) and an S3 server (moto_server).
# PostgreSQL runs with fsync off for the tests' speed; PG_FSYNC=on (the benchmarks) keeps the server's default.
# Source it, then: start_test_servers; ...; stop_test_servers.
# It exports DIABETES_TEST_POSTGRES (an Npgsql connection string of a superuser) and DIABETES_TEST_S3
# (a minio connection string), which the test fixtures read.

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the postgres user when we are root (initdb refuses root), else as ourselves.
as_pg_user() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# How long a server may take to start before we give up: only a safety net. moto_server imports much of boto and
# may take a minute to listen when the machine's cores are busy with other work.
SERVER_START_LIMIT=300

# Waits until process $1 listens on port $2; fails at once if the process ended, else after SERVER_START_LIMIT seconds.
wait_for_port() {
    local pid=$1 port=$2 name=$3
    local deadline=$((SECONDS + SERVER_START_LIMIT))
    until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name ended before it listened on port $port" >&2
            return 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "$name did not start listening on port $port within $SERVER_START_LIMIT s" >&2
            return 1
        fi
        sleep 0.2
    done
}

start_test_servers() {
    TEST_SERVERS_DIR=$(mktemp -d /tmp/diabetes-test-servers.XXXXXX)
    chmod 755 "$TEST_SERVERS_DIR"
    local pg_dir="$TEST_SERVERS_DIR/pg"
    mkdir -p "$pg_dir"
    [ "$(id -u)" = 0 ] && chown postgres "$pg_dir"

    PG_PORT=$(free_port)
    as_pg_user "$PG_BIN/initdb" -D "$pg_dir/data" -U postgres --auth=trust -E UTF8 >"$TEST_SERVERS_DIR/initdb.log" 2>&1 \
        || { cat "$TEST_SERVERS_DIR/initdb.log" >&2; return 1; }
    as_pg_user "$PG_BIN/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/postgres.log" -w -t "$SERVER_START_LIMIT" start \
        -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$pg_dir -c max_connections=200 -c fsync=${PG_FSYNC:-off}" \
        >/dev/null || { cat "$pg_dir/postgres.log" >&2; return 1; }
    export DIABETES_TEST_POSTGRES="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres"

    S3_PORT=$(free_port)
    moto_server -H 127.0.0.1 -p "$S3_PORT" >"$TEST_SERVERS_DIR/moto.log" 2>&1 &
    echo $! >"$TEST_SERVERS_DIR/moto.pid"
    wait_for_port "$(cat "$TEST_SERVERS_DIR/moto.pid")" "$S3_PORT" moto_server || { cat "$TEST_SERVERS_DIR/moto.log" >&2; return 1; }
    export DIABETES_TEST_S3="Endpoint=http://127.0.0.1:$S3_PORT;AccessKey=test;SecretKey=test"

    echo "test servers: PostgreSQL on 127.0.0.1:$PG_PORT, S3 (moto) on 127.0.0.1:$S3_PORT"
}

stop_test_servers() {
    [ -n "${TEST_SERVERS_DIR:-}" ] || return 0
    if [ -f "$TEST_SERVERS_DIR/moto.pid" ]; then
        kill "$(cat "$TEST_SERVERS_DIR/moto.pid")" 2>/dev/null || true
    fi
    if [ -d "$TEST_SERVERS_DIR/pg/data" ]; then
        as_pg_user "$PG_BIN/pg_ctl" -D "$TEST_SERVERS_DIR/pg/data" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$TEST_SERVERS_DIR"
    TEST_SERVERS_DIR=
}
