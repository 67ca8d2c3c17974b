#!/usr/bin/env bash
# Starts the real database servers the runtime package's tests use and prints the variables that point the tests at
# them: PostgreSQL (127.0.0.1:5432), pgbouncer in transaction pooling mode in front of it (127.0.0.1:6432),
# MariaDB (127.0.0.1:3306) and a MariaDB with TLS (127.0.0.1:3307). Installs pgbouncer from Debian's packages when
# it is missing.
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

# A second MariaDB with TLS on, its certificate issued by a test CA for db.example.invalid (and no other name): the
# client must refuse it when it connects as 127.0.0.1, even though the CA is trusted.
tls=/tmp/sqlapi-mariadb-tls
if ! mariadb-admin -h 127.0.0.1 -P 3307 -uroot status >/dev/null 2>&1; then
  log "starting MariaDB with TLS on 127.0.0.1:3307"
  rm -rf "$tls" && mkdir -p "$tls/data"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tls/ca.key" -out "$tls/ca.pem" -days 30 -subj "/CN=sqlapi test CA" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/CN=db.example.invalid" 2>/dev/null
  printf 'subjectAltName=DNS:db.example.invalid\n' > "$tls/san.ext"
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -out "$tls/server.pem" -days 30 \
    -extfile "$tls/san.ext" 2>/dev/null
  chown -R mysql:mysql "$tls"
  mariadb-install-db --user=mysql --datadir="$tls/data" --auth-root-authentication-method=normal --skip-test-db >/dev/null 2>&1
  (setsid /usr/sbin/mariadbd --user=mysql --datadir="$tls/data" --port=3307 --bind-address=127.0.0.1 --socket="$tls/mysqld.sock" \
    --pid-file="$tls/mysqld.pid" --ssl-ca="$tls/ca.pem" --ssl-cert="$tls/server.pem" --ssl-key="$tls/server.key" --skip-log-bin \
    >"$tls/log" 2>&1 &)
fi
for _ in $(seq 1 30); do mariadb-admin -h 127.0.0.1 -P 3307 -uroot status >/dev/null 2>&1 && break; sleep 0.5; done
mariadb-admin -h 127.0.0.1 -P 3307 -uroot status >/dev/null || { log "MariaDB with TLS did not start"; cat "$tls/log" >&2; exit 1; }

cat <<VARS
export SQL_TEST_MYSQL_TLS_URL=mysql://root@127.0.0.1:3307/mysql
export SQL_TEST_TLS_CA=$tls/ca.pem
export SQL_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/sqlapi_test
export SQL_TEST_PGBOUNCER_URL=postgres://postgres@127.0.0.1:6432/sqlapi_test
export SQL_TEST_MYSQL_URL=mysql://root@127.0.0.1:3306/sqlapi_test
export SQL_TEST_REQUIRE_SERVERS=1
VARS
