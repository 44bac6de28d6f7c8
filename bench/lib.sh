# shellcheck shell=bash disable=SC2034
# bench/lib.sh - helpers shared by scripts/bench and scripts/stress (bash).
#
# Sourced, not run.  Expects ROOT (the repository) to be set.  Provides:
#
#   note/die              messages on stderr ("bench: ...")
#   pg_start DIR          a throwaway PostgreSQL (scripts/pg-ephemeral) in
#                         DIR; sets PG_DIR, PG_ADMIN_URL (database postgres)
#   pg_stop               stops it (safe to call twice; used by traps)
#   db_new                CREATE DATABASE bench_<n>; sets DB_NAME, DB_URL
#   db_drop NAME          DROP DATABASE ... WITH (FORCE)
#   sqlv URL SQL          one value from a query (psql -XAtq)
#   timeit CMD...         runs CMD, sets T_MS (wall ms, 3 decimals) and
#                         returns CMD's status; uses $EPOCHREALTIME so no
#                         process is spawned around the command
#   cpu_mark              CPU time so far (ms) of the server (the postmaster,
#                         its live children and every child it reaped) plus
#                         this shell's reaped children, in CPU_MS; waits
#                         first until the server has no client session, so
#                         a run's backend is counted whole.  The difference
#                         of two marks around a run is the CPU it cost,
#                         a cross-check that contention from other
#                         processes on the machine inflates far less than
#                         wall time
#   median V...           the median of numbers
#   calc EXPR             floating-point arithmetic through awk
#   fmt_ms MS             "12.3 ms" / "2.08 s"
#   snapshot_build BIN DEST [LIB DEST]
#                         copies build/cairn (and libcairn.a) so a rebuild
#                         by someone else cannot change them mid-run;
#                         retries for a minute while a copy does not work
#   make_migrations DIR N STYLE
#                         writes N small CREATE TABLE migrations in the
#                         file layout of STYLE: cairn | dbmate |
#                         sql-migrate | sqitch
#
# Every migration i creates table t<i> (id bigint PRIMARY KEY, name text),
# so after a run the set of t<i> tables tells exactly what was applied.

export LC_ALL=C
PG_EPHEMERAL="$ROOT/scripts/pg-ephemeral"
PG_DIR=
PG_ADMIN_URL=
DB_SEQ=0

note() { printf '%s: %s\n' "${SCRIPT_NAME:-bench}" "$*" >&2; }
die() {
	printf '%s: error: %s\n' "${SCRIPT_NAME:-bench}" "$*" >&2
	exit 1
}

pg_bindir() {
	local b
	if command -v pg_config >/dev/null 2>&1; then
		b=$(pg_config --bindir 2>/dev/null || true)
		if [ -n "$b" ] && [ -x "$b/pg_ctl" ]; then
			echo "$b"
			return 0
		fi
	fi
	for b in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -n -r); do
		if [ -x "$b/pg_ctl" ]; then
			echo "$b"
			return 0
		fi
	done
	return 1
}

pg_start() {
	PG_DIR=$1
	PG_ADMIN_URL=$("$PG_EPHEMERAL" start "$PG_DIR") ||
		die "could not start PostgreSQL in $PG_DIR"
	# The socket directory, for tools that want host=DIR.
	PG_SOCKDIR=$(cd "$PG_DIR" && pwd)
}

pg_stop() {
	if [ -n "$PG_DIR" ] && [ -d "$PG_DIR" ]; then
		"$PG_EPHEMERAL" stop "$PG_DIR" >/dev/null 2>&1 || true
	fi
}

# URL of database $1 on the throwaway server.
db_url() {
	printf '%s' "${PG_ADMIN_URL/\/postgres\?//$1?}"
}

db_new() {
	DB_SEQ=$((DB_SEQ + 1))
	DB_NAME="bench_$$_$DB_SEQ"
	psql -X -q -v ON_ERROR_STOP=1 "$PG_ADMIN_URL" \
		-c "CREATE DATABASE $DB_NAME" >/dev/null ||
		die "cannot create database $DB_NAME"
	# Start every measurement from a clean slate: no dirty buffers left
	# over from the previous one.
	psql -X -q "$PG_ADMIN_URL" -c "CHECKPOINT" >/dev/null 2>&1 || true
	DB_URL=$(db_url "$DB_NAME")
}

db_drop() {
	psql -X -q "$PG_ADMIN_URL" \
		-c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" >/dev/null 2>&1 || true
}

sqlv() {
	psql -X -A -t -q -v ON_ERROR_STOP=1 "$1" -c "$2"
}

# Number of t<i> tables in the public schema of database URL $1.
count_t_tables() {
	sqlv "$1" "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename ~ '^t[0-9]+\$'"
}

T_MS=0
timeit() {
	local t0 t1 rc us
	t0=$EPOCHREALTIME
	"$@"
	rc=$?
	t1=$EPOCHREALTIME
	us=$((10#${t1/./} - 10#${t0/./}))
	printf -v T_MS '%d.%03d' $((us / 1000)) $((us % 1000))
	return $rc
}

# CPU ticks of process $1: utime + stime (+ cutime + cstime with "all").
proc_ticks() {
	local f
	[ -r "/proc/$1/stat" ] || { echo 0; return; }
	# fields after "pid (comm) ": state ppid ... utime is the 12th
	read -r -a f <<<"$(sed 's/^.*) //' "/proc/$1/stat")"
	if [ "${2:-}" = all ]; then
		echo $((f[11] + f[12] + f[13] + f[14]))
	else
		echo $((f[11] + f[12]))
	fi
}

PG_AUX=
cpu_mark() {
	local pm kids k t i n tick
	pm=$(head -n 1 "$PG_SOCKDIR/data/postmaster.pid" 2>/dev/null) || { CPU_MS=nan; return; }
	# the auxiliary processes, counted once when idle
	if [ -z "$PG_AUX" ]; then
		PG_AUX=$(psql -X -A -t -q "$PG_ADMIN_URL" -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type <> 'client backend'" 2>/dev/null)
		# the psql just run is a client backend that is gone now or soon
	fi
	for ((i = 0; i < 200; i++)); do
		kids=$(cat "/proc/$pm/task/$pm/children" 2>/dev/null)
		n=$(wc -w <<<"$kids")
		[ "$n" -le "${PG_AUX:-0}" ] && break
		sleep 0.01
	done
	t=$(proc_ticks "$pm" all)
	for k in $kids; do
		t=$((t + $(proc_ticks "$k")))
	done
	tick=$(getconf CLK_TCK)
	# this shell's reaped children (the client under test)
	local line
	line=$(times | tail -n 1)
	CPU_MS=$(awk -v t="$t" -v hz="$tick" -v l="$line" 'BEGIN {
		split(l, a, " "); c = 0
		for (i = 1; i <= 2; i++) { split(a[i], m, "m"); sub("s", "", m[2]); c += m[1] * 60 + m[2] }
		printf "%.0f\n", t * 1000 / hz + c * 1000
	}')
}

median() {
	printf '%s\n' "$@" | sort -g | awk '
		{ a[NR] = $1 }
		END {
			if (NR == 0) { print "nan"; exit }
			if (NR % 2) print a[(NR + 1) / 2]
			else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2
		}'
}

calc() {
	awk "BEGIN { printf \"%.6g\n\", $* }"
}

fmt_ms() {
	awk -v v="$1" 'BEGIN {
		if (v == "" || v == "nan") { print "-"; exit }
		if (v >= 1000) printf "%.2f s\n", v / 1000
		else if (v >= 100) printf "%.0f ms\n", v
		else if (v >= 10) printf "%.1f ms\n", v
		else printf "%.2f ms\n", v
	}'
}

snapshot_build() {
	local bin=$1 bdest=$2 lib=${3:-} ldest=${4:-} i
	for ((i = 0; i < 30; i++)); do
		if cp "$bin" "$bdest" 2>/dev/null && "$bdest" --version >/dev/null 2>&1 &&
			{ [ -z "$lib" ] || { cp "$lib" "$ldest" 2>/dev/null && ar t "$ldest" >/dev/null 2>&1; }; }; then
			return 0
		fi
		sleep 2
	done
	return 1
}

# make_migrations DIR N STYLE [SLEEP]
# SLEEP (seconds, optional) adds "SELECT pg_sleep(SLEEP);" to each one.
make_migrations() {
	local dir=$1 n=$2 style=$3 sleep=${4:-}
	mkdir -p "$dir"
	[ "$style" != sqitch ] || mkdir -p "$dir/deploy"
	awk -v dir="$dir" -v n="$n" -v style="$style" -v sl="$sleep" 'BEGIN {
		for (i = 1; i <= n; i++) {
			body = sprintf("CREATE TABLE t%d (id bigint PRIMARY KEY, name text NOT NULL);\n", i)
			if (sl != "")
				body = sprintf("SELECT pg_sleep(%s);\n", sl) body
			if (style == "cairn") {
				f = sprintf("%s/%05d_create_t%d.up.sql", dir, i, i)
				printf "%s", body > f
			} else if (style == "dbmate") {
				f = sprintf("%s/%05d_create_t%d.sql", dir, i, i)
				printf "-- migrate:up\n%s\n-- migrate:down\n", body > f
			} else if (style == "sql-migrate") {
				f = sprintf("%s/%05d_create_t%d.sql", dir, i, i)
				printf "-- +migrate Up\n%s\n-- +migrate Down\n", body > f
			} else if (style == "sqitch") {
				f = sprintf("%s/deploy/t%d.sql", dir, i)
				printf "BEGIN;\n%sCOMMIT;\n", body > f
			}
			close(f)
		}
	}'
}
