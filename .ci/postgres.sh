#!/usr/bin/env bash
# Install and start a PostgreSQL server on loopback for the tests and print its URL
# on stdout (messages go to stderr). Exits non-zero when it cannot (not root, no apt,
# no network); .ci/run then goes on without it.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "not root: cannot install PostgreSQL" >&2; exit 1; }
command -v apt-get >/dev/null || { echo "no apt-get: cannot install PostgreSQL" >&2; exit 1; }
if ! command -v pg_lsclusters >/dev/null; then
  (apt-get install -y -q postgresql || (apt-get update -q && apt-get install -y -q postgresql)) \
    >/dev/null 2>&1 || { echo "apt-get could not install postgresql" >&2; exit 1; }
fi

# Whatever version apt installed (15 on Debian 12): its first cluster, else a new one.
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v {print $2; exit}')
if [ -z "$cluster" ]; then
  cluster=main
  pg_createcluster "$version" "$cluster" >/dev/null
fi
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')
# Debian's clusters listen on localhost only, so nothing outside this machine can
# reach the test server.
pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1 \
  || pg_ctlcluster "$version" "$cluster" start >&2

# A throwaway role and database; the password only guards a loopback test server.
# From / : the postgres user may not be allowed into the checkout's folder.
psql_admin() {
  (cd / && PGOPTIONS="-c client_min_messages=warning" \
    su postgres -c "psql -p $port -v ON_ERROR_STOP=1 -qAt $*")
}
role=dispatch_ci
password=dispatch_ci
psql_admin "-c \"DROP DATABASE IF EXISTS dispatch_ci WITH (FORCE)\"" >/dev/null
psql_admin "-c \"DROP ROLE IF EXISTS $role\"" >/dev/null
psql_admin "-c \"CREATE ROLE $role LOGIN PASSWORD '$password'\"" >/dev/null
psql_admin "-c \"CREATE DATABASE dispatch_ci OWNER $role\"" >/dev/null

echo "PostgreSQL $version ($cluster) on 127.0.0.1:$port for the tests" >&2
echo "postgresql://$role:$password@127.0.0.1:$port/dispatch_ci"
