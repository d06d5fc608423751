#!/usr/bin/env bash
# Starts or stops a throwaway ClickHouse on 127.0.0.1 for tests and benchmarks (Debian clickhouse-server 18.16
# or newer): a minimal config in a temp dir, no systemd, readiness waited for with a bound.
#
#   scripts/ci/clickhouse.sh start   # prints MINEWATCH_TEST_CLICKHOUSE=clickhouse://127.0.0.1:PORT
#   scripts/ci/clickhouse.sh stop
#
# Env: MINEWATCH_CH_HTTP_PORT (default 18123), MINEWATCH_CH_TCP_PORT (default 19000),
#      MINEWATCH_CH_DIR (default /tmp/minewatch-clickhouse-$HTTP_PORT), MINEWATCH_CH_WAIT (seconds, default 30).
set -euo pipefail

HTTP_PORT="${MINEWATCH_CH_HTTP_PORT:-18123}"
TCP_PORT="${MINEWATCH_CH_TCP_PORT:-19000}"
DIR="${MINEWATCH_CH_DIR:-/tmp/minewatch-clickhouse-$HTTP_PORT}"
WAIT="${MINEWATCH_CH_WAIT:-30}"
PIDFILE="$DIR/server.pid"
URL="clickhouse://127.0.0.1:$HTTP_PORT"

ping() { curl -sf --max-time 2 "http://127.0.0.1:$HTTP_PORT/ping" >/dev/null 2>&1; }

start() {
  local bin
  bin="$(command -v clickhouse-server || true)"
  if [ -z "$bin" ]; then
    echo "clickhouse.sh: clickhouse-server is not installed (apt-get install -y clickhouse-server)" >&2
    exit 3
  fi
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && ping; then
    echo "MINEWATCH_TEST_CLICKHOUSE=$URL"
    return 0
  fi
  rm -rf "$DIR"
  mkdir -p "$DIR/data" "$DIR/tmp" "$DIR/user_files" "$DIR/format_schemas"
  # users.xml: the packaged default user (no password, loopback); falls back to a minimal copy of our own.
  local users=/etc/clickhouse-server/users.xml
  if [ ! -r "$users" ]; then
    users="$DIR/users.xml"
    cat >"$users" <<'XML'
<yandex>
  <profiles><default/></profiles>
  <users><default><password/><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default/></quotas>
</yandex>
XML
  fi
  cat >"$DIR/config.xml" <<XML
<yandex>
  <logger><level>warning</level><log>$DIR/server.log</log><errorlog>$DIR/server.err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>$HTTP_PORT</http_port>
  <tcp_port>$TCP_PORT</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>$DIR/data/</path>
  <tmp_path>$DIR/tmp/</tmp_path>
  <user_files_path>$DIR/user_files/</user_files_path>
  <format_schema_path>$DIR/format_schemas/</format_schema_path>
  <users_config>$users</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mlock_executable>false</mlock_executable>
  <mark_cache_size>268435456</mark_cache_size>
</yandex>
XML
  # setsid: the server outlives this script and is not killed with the caller's process group.
  setsid "$bin" --config-file="$DIR/config.xml" >"$DIR/stdout.log" 2>&1 < /dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + WAIT))
  until ping; do
    if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
      echo "clickhouse.sh: clickhouse-server exited during startup; last log lines:" >&2
      tail -n 20 "$DIR/server.err.log" "$DIR/stdout.log" >&2 2>/dev/null || true
      exit 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "clickhouse.sh: not ready on 127.0.0.1:$HTTP_PORT after ${WAIT}s" >&2
      stop >/dev/null 2>&1 || true
      exit 1
    fi
    sleep 0.2
  done
  echo "MINEWATCH_TEST_CLICKHOUSE=$URL"
}

stop() {
  if [ -f "$PIDFILE" ]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$DIR"
  echo "clickhouse.sh: stopped ($DIR removed)"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
