#!/usr/bin/env bash
# bench-cluster.sh — one Parley node against a cluster of three, on this
# machine, with the figures of docs/PERFORMANCE.md ("A cluster of three
# nodes"): the rooms scenario (one room against separate rooms), chat's
# same-node and cross-node delivery latency, and fan-out to 2,000 members.
#
# Every node is a `parley serve` process on its own loopback port, all on
# one PostgreSQL database (a schema of their own, dropped at the end) and
# one NATS (a subject prefix of their own), sharing one signing key.
#
#   go build -o /tmp/parley-cb ./cmd/parley
#   deploy/bench-cluster.sh                 # 2 runs of each, 10,000 conns
#   RUNS=1 CONNS=2000 deploy/bench-cluster.sh
#
# Settings (environment):
#   PARLEY_BIN     the binary (default /tmp/parley-cb)
#   DATABASE_URL   PostgreSQL (default postgres://postgres@127.0.0.1:5432/test?sslmode=disable)
#   NATS_URL       NATS (default nats://127.0.0.1:4222)
#   CONNS          rooms' connections (default 10000; needs `ulimit -n` above it)
#   RUNS           runs of each figure (default 2: the machine may be shared)
#   NODES          cluster sizes to compare (default "1 3")
#   SCENARIOS      which to run (default "rooms chat fanout")
#   OUT            directory for the reports (default ./bench-cluster-<time>)
#   BASE_PORT      first node's port (default 18201)
#
# Each report is a bench --json file and its text table, with `uptime`
# before and after, so a reader sees the machine's load with each figure.
set -euo pipefail
export PGOPTIONS='--client-min-messages=warning'

BIN=${PARLEY_BIN:-/tmp/parley-cb}
DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
CONNS=${CONNS:-10000}
RUNS=${RUNS:-2}
NODES=${NODES:-"1 3"}
SCENARIOS=${SCENARIOS:-"rooms chat fanout"}
OUT=${OUT:-./bench-cluster-$(date -u +%Y%m%dT%H%M%SZ)}
BASE_PORT=${BASE_PORT:-18201}

die() { echo "bench-cluster: $*" >&2; exit 1; }
[ -x "$BIN" ] || die "no binary at $BIN: go build -o $BIN ./cmd/parley (or set PARLEY_BIN)"
command -v psql >/dev/null || die "psql is needed to make and drop the nodes' schema"
psql "$DATABASE_URL" -Atqc 'select 1' >/dev/null || die "cannot reach PostgreSQL at $DATABASE_URL"

# Each connection is an open file in the tool and one in a node.
need=$((CONNS + 500))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || die "ulimit -n $(ulimit -n) is below the $need files $CONNS connections need; raise the hard limit or lower CONNS"
fi
mkdir -p "$OUT"
WORK=$(mktemp -d)
PIDS=()
SCHEMA=""

stop_nodes() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
	PIDS=()
	if [ -n "$SCHEMA" ]; then
		psql "$DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null || true
		SCHEMA=""
	fi
}
trap 'stop_nodes; rm -rf "$WORK"' EXIT

# start_nodes N NAME: a fresh schema, key and prefix, then N nodes on
# BASE_PORT.. until each answers /readyz. Sets SERVERS and SERVER_PIDS.
start_nodes() {
	local n=$1 name=$2 i port tag
	tag=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	SCHEMA="parley_bench_$tag"
	psql "$DATABASE_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
	local sep='?'
	case $DATABASE_URL in *\?*) sep='&' ;; esac
	local db="${DATABASE_URL}${sep}search_path=$SCHEMA"
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORK/signing.key"
	chmod 600 "$WORK/signing.key"
	SERVERS="" SERVER_PIDS=""
	for i in $(seq 1 "$n"); do
		port=$((BASE_PORT + i - 1))
		rm -rf "$WORK/node$i" && mkdir -p "$WORK/node$i"
		"$BIN" serve --addr "127.0.0.1:$port" --data-dir "$WORK/node$i" \
			--database-url "$db" --broker "$NATS_URL" --broker-prefix "bench$tag" \
			--signing-key-file "$WORK/signing.key" \
			--guests --room-creation anyone --rate-messages 100000 --rate-burst 100000 \
			--max-conns-per-user 100000 --user-rate-messages 0 --user-rate-joins 0 \
			--address-rate-messages 0 --address-rate-joins 0 --room-create-rate 0 \
			--max-conns-per-address 0 --accept-rate 0 --log-level warn >"$OUT/$name-node$i.log" 2>&1 &
		PIDS+=($!)
		SERVERS="${SERVERS:+$SERVERS,}ws://127.0.0.1:$port"
		SERVER_PIDS="${SERVER_PIDS:+$SERVER_PIDS,}$!"
	done
	for i in $(seq 1 "$n"); do
		port=$((BASE_PORT + i - 1))
		for _ in $(seq 1 100); do
			curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
			sleep 0.2
		done
		curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null || die "node $i on port $port did not get ready; see $OUT/$name-node$i.log"
	done
}

# bench NAME ARGS...: one bench run against the nodes, with the load.
bench() {
	local name=$1
	shift
	{
		echo "# $name: $BIN bench $* --server $SERVERS"
		echo "# before: $(uptime)"
	} >"$OUT/$name.txt"
	"$BIN" bench "$@" --server "$SERVERS" --server-pid "$SERVER_PIDS" --json "$OUT/$name.json" \
		>>"$OUT/$name.txt" 2>"$OUT/$name.progress" || echo "# bench exited $?" >>"$OUT/$name.txt"
	echo "# after: $(uptime)" >>"$OUT/$name.txt"
	echo "bench-cluster: $OUT/$name.txt"
}

for run in $(seq 1 "$RUNS"); do
	for n in $NODES; do
		for s in $SCENARIOS; do
			# A fresh cluster for each figure: no room, presence or
			# connection of one scenario weighs on the next.
			start_nodes "$n" "$s-${n}node-run$run"
			case $s in
			rooms) bench "rooms-${n}node-run$run" --scenario rooms --conns "$CONNS" --timeout 10m ;;
			chat) bench "chat-${n}node-run$run" --scenario chat --rooms 500 --members 4 --rates 1,5 --duration 10s ;;
			# Fixed steps rather than the climb from 5 msg/s: on a shared
			# machine the low steps can already miss the p99 mark, and the
			# climb stops after two misses.
			fanout) bench "fanout-${n}node-run$run" --scenario fanout --members 2000 --rates 50,100,200 --step-duration 5s ;;
			*) die "unknown scenario $s (want rooms, chat or fanout)" ;;
			esac
			stop_nodes
		done
	done
done
echo "bench-cluster: reports in $OUT"
