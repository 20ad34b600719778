#!/usr/bin/env bash
# Make a PostgreSQL server available to the tests and print its URL on stdout (nothing else goes
# to stdout). Idempotent and non-interactive: installs Debian's `postgresql` if it is missing,
# creates and starts a cluster listening on loopback only, and creates a test role and database.
# The tests give every run its own schema, so one database serves any number of runs.
#
#   export COUNTERSCAN_TEST_PG_URL="$(.ci/postgres.sh)"
#
# An already exported COUNTERSCAN_TEST_PG_URL is kept as is (bring your own server).
set -Eeuo pipefail
# Every failing step names itself: a mute exit 1 under `set -e` has cost a whole CI run before.
# -E: the trap also fires inside functions (as_root, as_postgres), naming the line that called.
trap 'rc=$?; echo "postgres.sh: line $LINENO failed (exit $rc): $BASH_COMMAND${FUNCNAME:+ in ${FUNCNAME[0]}, called from line ${BASH_LINENO[0]}}" >&2' ERR

if [[ -n "${COUNTERSCAN_TEST_PG_URL:-}" ]]; then
    echo "$COUNTERSCAN_TEST_PG_URL"
    exit 0
fi

PG_ROLE=counterscan_test
PG_DB=counterscan_test
PG_PASSWORD=counterscan_test  # loopback only, throwaway data: not a secret

log() { echo "postgres.sh: $*" >&2; }

# Root runs things directly (CI containers); anyone else goes through sudo without a prompt.
if [[ $(id -u) -eq 0 ]]; then
    as_root() { "$@"; }
    as_postgres() { runuser -u postgres -- "$@"; }
else
    as_root() { sudo -n "$@"; }
    as_postgres() { sudo -n -u postgres "$@"; }
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
    log "installing Debian's postgresql"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        postgresql >&2
fi

# Newest installed server version, and its first cluster (created when there is none).
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v { print $2; exit }')
if [[ -z "$cluster" ]]; then
    cluster=main
    log "creating cluster $version/$cluster"
    as_root pg_createcluster "$version" "$cluster" >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $3 }')

# Loopback only, whatever the cluster's configuration said (restart if it was running wider).
online() {
    pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c { print $4 }' \
        | grep -q online
}
# `pg_conftool show` exits 1 when the key is unset (a stock cluster has it commented out).
listen=$( { pg_conftool "$version" "$cluster" show listen_addresses 2>/dev/null || true; } \
    | sed "s/.*= *//; s/'//g")
if [[ "$listen" != "localhost" ]]; then
    as_root pg_conftool "$version" "$cluster" set listen_addresses localhost >&2
    if online; then
        log "restarting cluster $version/$cluster to listen on loopback only"
        as_root pg_ctlcluster "$version" "$cluster" restart >&2
    fi
fi
if ! online; then
    log "starting cluster $version/$cluster on port $port"
    as_root pg_ctlcluster "$version" "$cluster" start >&2
fi
for _ in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && break
    sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "$port" || { log "server on port $port did not become ready"; exit 1; }

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$PG_ROLE'") ]]; then
    psql_admin -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB PASSWORD '$PG_PASSWORD'" >&2
fi
if [[ -z $(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ]]; then
    psql_admin -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >&2
fi

echo "postgresql://$PG_ROLE:$PG_PASSWORD@127.0.0.1:$port/$PG_DB"
