#!/usr/bin/env bash
# Start or stop the real PostgreSQL and Redis servers the test suite and benchmarks use.
# They listen on loopback only, on non-standard ports, with their data in a throw-away folder,
# so they never collide with a system install. Installs the Debian packages when missing.
#
#   scripts/services.sh start   # prints the URLs as shell exports
#   scripts/services.sh stop
set -euo pipefail

PG_PORT=${MLLEDGER_TEST_PG_PORT:-54329}
REDIS_PORT=${MLLEDGER_TEST_REDIS_PORT:-63799}
# Three masters of a Redis Cluster (the online store's cluster mode is tested too); below
# 55536, as each node also listens on its port + 10000 for the cluster bus.
CLUSTER_PORTS=(${MLLEDGER_TEST_REDIS_CLUSTER_PORTS:-46391 46392 46393})
STATE=${MLLEDGER_TEST_STATE:-/tmp/mlledger-services}
PG_DATA=$STATE/pg
PG_BIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

ensure_packages() {
  local missing=()
  [ -x "$PG_BIN/initdb" ] || missing+=(postgresql-15)
  command -v redis-server >/dev/null || missing+=(redis-server)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
    PG_BIN=$(pg_config --bindir 2>/dev/null || echo /usr/lib/postgresql/15/bin)
  fi
}

start_postgres() {
  mkdir -p "$STATE"
  if [ "$(id -u)" = 0 ]; then chown postgres "$STATE"; fi
  if [ ! -s "$PG_DATA/PG_VERSION" ]; then
    as_postgres "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  if ! as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
    # Durability settings off: these are throw-away test servers, not production.
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$STATE/pg.log" -w -t 60 start \
      -o "-p $PG_PORT -k $STATE -c listen_addresses=127.0.0.1 -c fsync=off \
          -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
  fi
  for db in mlledger_test mlledger_bench; do
    as_postgres "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      as_postgres "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$db"
  done
}

start_redis() {
  mkdir -p "$STATE/redis"
  if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    # hash-max-listpack-entries: an entity's hash holds a field per feature of all its views;
    # past a few dozen fields a listpack's linear lookups double HMGET's cost (README, "Redis").
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save "" \
      --appendonly no --dir "$STATE/redis" --logfile "$STATE/redis.log" \
      --pidfile "$STATE/redis.pid" --hash-max-listpack-entries 32
    for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  fi
}

start_redis_cluster() {
  local port nodes=()
  for port in "${CLUSTER_PORTS[@]}"; do
    nodes+=("127.0.0.1:$port")
    redis-cli -p "$port" ping >/dev/null 2>&1 && continue
    mkdir -p "$STATE/cluster-$port"
    rm -f "$STATE/cluster-$port/nodes.conf"
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save "" --appendonly no \
      --cluster-enabled yes --cluster-config-file nodes.conf --dir "$STATE/cluster-$port" \
      --logfile "$STATE/cluster-$port.log" --pidfile "$STATE/cluster-$port.pid" \
      --hash-max-listpack-entries 32
    for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  done
  if ! redis-cli -p "${CLUSTER_PORTS[0]}" cluster info 2>/dev/null | grep -q 'cluster_state:ok'; then
    redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >/dev/null
    for _ in $(seq 100); do
      redis-cli -p "${CLUSTER_PORTS[0]}" cluster info | grep -q 'cluster_state:ok' && break
      sleep 0.1
    done
  fi
}

case "${1:-start}" in
  start)
    ensure_packages
    start_postgres
    start_redis
    start_redis_cluster
    echo "export MLLEDGER_TEST_REDIS_CLUSTER_URL=redis://127.0.0.1:${CLUSTER_PORTS[0]}/0"
    echo "export MLLEDGER_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/mlledger_test"
    echo "export MLLEDGER_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0"
    ;;
  stop)
    as_postgres "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast stop >/dev/null 2>&1 || true
    for port in "$REDIS_PORT" "${CLUSTER_PORTS[@]}"; do
      redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    done
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
