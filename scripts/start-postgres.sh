#!/usr/bin/env bash
# Starts the installed PostgreSQL 15 cluster (Debian's `15 main`; apt never starts it here) and
# creates the test role and database of the PostgreSQL store tests ([P2], docs/cluster.md).
# Safe to run again: a running cluster, an existing role or database are left as they are (the
# role's password is set again from the same file).
#
# The role is an ordinary one (NOSUPERUSER NOCREATEDB NOCREATEROLE): it owns its database, which
# is all `spoolgate db migrate` needs, so the tests prove that no superuser right is used.
# Tests give each case its own schema in that database (src/store/pg/testing.ts).
#
# Prints one line on standard output: the connection URL the tests read, e.g.
#   export SPOOLGATE_TEST_PG_URL="$(bash scripts/start-postgres.sh)"
# Everything else goes to standard error. Needs root (it runs psql as the postgres user).
set -euo pipefail
VERSION="${SPOOLGATE_PG_VERSION:-15}"
CLUSTER="${SPOOLGATE_PG_CLUSTER:-main}"
ROLE="${SPOOLGATE_TEST_PG_ROLE:-spoolgate_test}"
DB="${SPOOLGATE_TEST_PG_DB:-spoolgate_test}"
# The password lives beside the cluster's data (root and postgres only), created once.
SECRET_DIR="${SPOOLGATE_TEST_PG_SECRET_DIR:-/var/lib/postgresql/spoolgate-test}"

if [ "$(id -u)" -ne 0 ]; then
  echo "start-postgres: needs root (it runs psql as the postgres user); try: sudo $0" >&2
  exit 1
fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -x "/usr/lib/postgresql/$VERSION/bin/postgres" ]; then
  echo "start-postgres: PostgreSQL $VERSION is not installed (run: npm run peers)" >&2
  exit 1
fi
case "$ROLE$DB" in *[!a-z0-9_]*) echo "start-postgres: role and database names must be of a-z 0-9 _" >&2; exit 1;; esac

# pg_ctlcluster status: 0 running, 3 not running.
if pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
  echo "start-postgres: cluster $VERSION/$CLUSTER already running" >&2
else
  echo "start-postgres: starting cluster $VERSION/$CLUSTER" >&2
  pg_ctlcluster "$VERSION" "$CLUSTER" start >&2
fi
PORT="$(pg_conftool -s "$VERSION" "$CLUSTER" show port 2>/dev/null || echo 5432)"
# pg_ctlcluster waits for start-up; pg_isready confirms it accepts connections (bounded wait).
for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "$PORT"; then break; fi
  sleep 0.5
done
pg_isready -h 127.0.0.1 -p "$PORT" >&2

install -d -m 0700 -o postgres -g postgres "$SECRET_DIR"
PASSFILE="$SECRET_DIR/$ROLE.password"
if [ ! -s "$PASSFILE" ]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$PASSFILE")
  chown postgres:postgres "$PASSFILE"
fi
PASSWORD="$(cat "$PASSFILE")"

psql_postgres() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"; }

# TLS for the Store Tls tests: a test CA and a server certificate for 127.0.0.1/localhost, made
# once; the cluster serves them (ssl = on, reloaded, no restart). Tests find the CA at
# $SECRET_DIR/tls/ca.pem (or SPOOLGATE_TEST_PG_CA).
TLS_DIR="$SECRET_DIR/tls"
if [ ! -s "$TLS_DIR/server.pem" ] || [ ! -s "$TLS_DIR/ca.pem" ]; then
  echo "start-postgres: making the test CA and server certificate in $TLS_DIR" >&2
  install -d -m 0755 -o postgres -g postgres "$TLS_DIR"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=spoolgate test database CA" \
    -keyout "$TLS_DIR/ca.key" -out "$TLS_DIR/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$TLS_DIR/server.ext"
  openssl x509 -req -in "$TLS_DIR/server.csr" -CA "$TLS_DIR/ca.pem" -CAkey "$TLS_DIR/ca.key" -CAcreateserial \
    -days 3650 -extfile "$TLS_DIR/server.ext" -out "$TLS_DIR/server.pem" 2>/dev/null
  chown postgres:postgres "$TLS_DIR"/*
  chmod 0600 "$TLS_DIR/server.key" "$TLS_DIR/ca.key"
  chmod 0644 "$TLS_DIR/ca.pem" "$TLS_DIR/server.pem"
fi
psql_postgres -d postgres -v cert="$TLS_DIR/server.pem" -v key="$TLS_DIR/server.key" >&2 <<'SQL'
ALTER SYSTEM SET ssl_cert_file = :'cert';
ALTER SYSTEM SET ssl_key_file = :'key';
ALTER SYSTEM SET ssl = on;
SELECT pg_reload_conf() \gset
SQL

# The password goes through a psql variable (:'pw' quotes it), never on a command line.
psql_postgres -d postgres -v role="$ROLE" -v pw="$PASSWORD" >&2 <<'SQL'
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') AS missing \gset
\if :missing
  CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
\endif
ALTER ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
SQL
if [ "$(psql_postgres -d postgres -At -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'")" = "0" ]; then
  echo "start-postgres: creating database $DB owned by $ROLE" >&2
  psql_postgres -d postgres -c "CREATE DATABASE \"$DB\" OWNER \"$ROLE\" ENCODING 'UTF8' TEMPLATE template0"
fi

echo "postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB"
