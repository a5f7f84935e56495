#!/usr/bin/env bash
# Starts and stops a throw-away PostgreSQL server the way the store's tests do
# (internal/store/pg_linux_test.go): Debian's initdb and postgres, as a non-root user
# (PostgreSQL refuses root), on a temporary directory and a free port. CI runs it
# before the tests so that a machine that cannot do this fails early and clearly.
set -euo pipefail

bin="${IAMAUDIT_TEST_PG_BIN:-}"
if [ -z "$bin" ]; then
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "missing: PostgreSQL server binaries (apt-get install -y postgresql)" >&2
  exit 1
fi

dir=$(mktemp -d /tmp/iamaudit-pg-check-XXXXXX)
as=()
if [ "$(id -u)" = 0 ]; then
  user=postgres
  id "$user" >/dev/null 2>&1 || user=nobody
  chown "$user" "$dir"
  as=(runuser -u "$user" --)
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() {
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

"${as[@]}" "$bin/initdb" -D "$dir/data" -U iamaudit --auth trust -E UTF8 --no-sync --locale C >/dev/null
"${as[@]}" "$bin/pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/log" \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null
"${as[@]}" "$bin/psql" -h 127.0.0.1 -p "$port" -U iamaudit -d postgres -tAc 'SELECT version()'
