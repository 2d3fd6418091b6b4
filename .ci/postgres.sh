# A throwaway PostgreSQL cluster for one CI run: installed from Debian's packages when missing,
# started on 127.0.0.1 on a free port, its data in a temporary directory, stopped on exit.
# Source it, then: start_postgres; ... "$POSTGRES_TEST_URL" ...; stop_postgres.
# shellcheck shell=bash

postgres_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$dir" ] && command -v pg_config >/dev/null; then
        dir=$(pg_config --bindir)
    fi
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install_postgres() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "PostgreSQL is missing: installing it from Debian's packages"
    $sudo apt-get update -qq
    # No cluster of the package's own: this run makes the one it needs.
    $sudo mkdir -p /etc/postgresql-common
    echo "create_main_cluster = false" | $sudo tee /etc/postgresql-common/createcluster.conf >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        postgresql >/dev/null
}

# Run a command as the cluster's owner: initdb and the server refuse to run as root.
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pg_version() {
    "$PG_BIN/postgres" --version | awk '{print $3}'
}

start_postgres() {
    PG_BIN=$(postgres_bin) || { install_postgres; PG_BIN=$(postgres_bin); }
    PG_DIR=$(mktemp -d /tmp/cloudacct-ci-pg.XXXXXX)
    PG_PORT=$(free_port)
    [ "$(id -u)" -ne 0 ] || chown postgres "$PG_DIR"
    trap stop_postgres EXIT
    as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >/dev/null
    # fsync off: the cluster lives for one run; durability is tested on SQLite's own file.
    as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-h 127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=300 -c fsync=off" >/dev/null
    # The tests' role makes a database per test and drops it WITH (FORCE), which needs
    # pg_signal_backend to end connections a test's threads left behind.
    "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE cloudacct LOGIN PASSWORD 'cloudacct' CREATEDB" \
        -c "GRANT pg_signal_backend TO cloudacct" \
        -c "CREATE DATABASE cloudacct_test OWNER cloudacct"
    POSTGRES_TEST_URL="postgresql://cloudacct:cloudacct@127.0.0.1:$PG_PORT/cloudacct_test"
    export POSTGRES_TEST_URL
}

stop_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
        as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
    PG_DIR=""
}
