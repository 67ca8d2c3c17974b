#!/usr/bin/env bash
# Starts the real database servers the runtime package's tests use and prints the variables that point the tests at
# them: PostgreSQL (127.0.0.1:5432), pgbouncer in transaction pooling mode in front of it (127.0.0.1:6432) and
# MariaDB (127.0.0.1:3306). Installs pgbouncer from Debian's packages when it is missing.
set -euo pipefail

log() { echo "[services] $*" >&2; }

if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ]; then
  log "installing pgbouncer"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 -q || { log "PostgreSQL did not start"; exit 1; }

if ! mariadb-admin -h 127.0.0.1 -uroot status >/dev/null 2>&1; then
  log "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
for _ in $(seq 1 30); do mariadb-admin -h 127.0.0.1 -uroot status >/dev/null 2>&1 && break; sleep 1; done
mariadb-admin -h 127.0.0.1 -uroot status >/dev/null || { log "MariaDB did not start"; exit 1; }

psql -h 127.0.0.1 -U postgres -d postgres -qtAc "select 1 from pg_database where datname = 'sqlapi_test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -d postgres -qc "create database sqlapi_test"
mariadb -h 127.0.0.1 -uroot -e "create database if not exists sqlapi_test"

dir=/tmp/sqlapi-pgbouncer
mkdir -p "$dir"
cat > "$dir/pgbouncer.ini" <<INI
[databases]
sqlapi_test = host=127.0.0.1 port=5432 dbname=sqlapi_test user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
auth_type = trust
auth_file = $dir/users.txt
admin_users = postgres
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
server_reset_query =
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
unix_socket_dir =
INI
printf '"postgres" ""\n' > "$dir/users.txt"
chown -R postgres "$dir"
if [ -f "$dir/pgbouncer.pid" ] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
  kill "$(cat "$dir/pgbouncer.pid")" && sleep 1
fi
su postgres -s /bin/sh -c "$PGBOUNCER -d $dir/pgbouncer.ini"
for _ in $(seq 1 20); do pg_isready -h 127.0.0.1 -p 6432 -q && break; sleep 0.5; done
pg_isready -h 127.0.0.1 -p 6432 -q || { log "pgbouncer did not start"; cat "$dir/pgbouncer.log" >&2; exit 1; }

cat <<VARS
export SQL_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/sqlapi_test
export SQL_TEST_PGBOUNCER_URL=postgres://postgres@127.0.0.1:6432/sqlapi_test
export SQL_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/sqlapi_test
export SQL_TEST_REQUIRE_SERVERS=1
VARS
