#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the SQL tests and benchmarks (issue 16):
# Debian's server binaries (scripts/setup.sh postgres), a fresh `initdb` in a
# temporary folder, reachable on a free loopback port and on a unix socket in
# that folder, trust authentication for connections from this machine only.
# Nothing is kept: fsync is off and the folder is deleted on stop.
#
#   scripts/pg.sh run CMD [ARG...]   start a cluster, run CMD with the PG* env
#                                    set, stop and delete the cluster whatever
#                                    happens (exit, Ctrl-C, kill); CMD's status
#   scripts/pg.sh start              start one and print its env as `export`
#                                    lines: eval "$(scripts/pg.sh start)"
#   scripts/pg.sh stop [DIR]         stop and delete one (DIR defaults to
#                                    $FIELDSEAL_PG_DIR, as printed by start)
#
# The env: PGHOST=127.0.0.1 PGPORT PGUSER=fieldseal PGDATABASE=fieldseal (what
# libpq, psql and node-postgres read), DATABASE_URL, FIELDSEAL_PG_DIR (the
# folder; its socket is FIELDSEAL_PG_DIR/.s.PGSQL.$PGPORT, so PGHOST=$FIELDSEAL_PG_DIR
# connects through it). FIELDSEAL_PG_PORT picks the port instead of a free one.
#
# initdb and postgres refuse to run as root: as root the cluster belongs to
# the `postgres` system user that Debian's package creates, and runs as it.
set -euo pipefail

log() { printf '\033[1m[pg]\033[0m %s\n' "$*" >&2; }
die() { printf 'scripts/pg.sh: %s\n' "$*" >&2; exit 1; }

# A file in every folder this script made, so that `stop` never deletes a folder it did not make.
MARKER=.fieldseal-pg

# The newest installed server's binaries (Debian keeps them out of PATH, in /usr/lib/postgresql/VERSION/bin).
bindir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 3 -path '*/bin/initdb' -printf '%h\n' 2>/dev/null | sort -V | tail -1)
  if [ -z "$dir" ] && command -v initdb >/dev/null; then dir=$(dirname "$(readlink -f "$(command -v initdb)")"); fi
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ] ||
    die "no PostgreSQL server found (initdb, pg_ctl, postgres); install it with scripts/setup.sh postgres"
  printf '%s\n' "$dir"
}

# Runs a server binary as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A loopback TCP port nobody listens on right now (the kernel's pick for port 0).
free_port() {
  if [ -n "${FIELDSEAL_PG_PORT:-}" ]; then
    printf '%s\n' "$FIELDSEAL_PG_PORT"
    return
  fi
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
    node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })' ||
    die "cannot pick a free port (neither python3 nor node); set FIELDSEAL_PG_PORT"
}

# Stops the cluster in DIR if it runs and deletes DIR. Quiet and idempotent: a trap may call it twice.
stop_cluster() {
  local dir=$1
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  [ -e "$dir/$MARKER" ] || die "$dir was not made by scripts/pg.sh (no $MARKER); not deleting it"
  if [ -f "$dir/data/postmaster.pid" ]; then
    # fast: roll back open transactions and close connections; immediate if that hangs.
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
      as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

# Starts a new cluster; on success prints its folder on stdout, on failure deletes it and says why.
start_cluster() {
  local bin dir port user=fieldseal attempt
  bin=$(bindir)
  if [ "$(id -u)" -eq 0 ]; then
    getent passwd postgres >/dev/null ||
      die "running as root, and there is no postgres user to own the cluster (Debian's postgresql package creates it)"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/fieldseal-pg.XXXXXX")
  touch "$dir/$MARKER"
  # Anything below fails: delete the half-made cluster before exiting.
  trap 'stop_cluster "$dir"' EXIT
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -U "$user" --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # A port taken between free_port and the server's bind: try again with another.
  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null 2>&1; then
      break
    fi
    if [ "$attempt" = 5 ] || ! grep -q 'could not bind\|Address already in use' "$dir/server.log" 2>/dev/null; then
      tail -20 "$dir/server.log" >&2 2>/dev/null || true
      die "the server did not start"
    fi
    : >"$dir/server.log"
  done
  "$bin/psql" -h "$dir" -p "$port" -U "$user" -d postgres -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE fieldseal" >/dev/null ||
    die "CREATE DATABASE failed"
  echo "$port" >"$dir/port"
  trap - EXIT
  printf '%s\n' "$dir"
}

# The env of the cluster in DIR, as `export NAME=value` lines.
print_env() {
  local dir=$1 port
  port=$(cat "$dir/port")
  printf 'export PGHOST=127.0.0.1 PGPORT=%q PGUSER=fieldseal PGDATABASE=fieldseal\n' "$port"
  printf 'export DATABASE_URL=%q\n' "postgresql://fieldseal@127.0.0.1:$port/fieldseal"
  printf 'export FIELDSEAL_PG_DIR=%q\n' "$dir"
}

case ${1:-} in
  start)
    dir=$(start_cluster)
    log "PostgreSQL $("$(bindir)/postgres" --version | awk '{print $3}') on 127.0.0.1:$(cat "$dir/port") and $dir (stop: scripts/pg.sh stop $dir)"
    print_env "$dir"
    ;;
  stop)
    dir=${2:-${FIELDSEAL_PG_DIR:-}}
    [ -n "$dir" ] || die "stop: which cluster? (scripts/pg.sh stop DIR, or FIELDSEAL_PG_DIR)"
    stop_cluster "$dir"
    ;;
  run)
    shift
    [ $# -gt 0 ] || die "run: no command (scripts/pg.sh run CMD [ARG...])"
    dir=$(start_cluster)
    # Stopped on any exit of this script; a signal becomes an exit with the usual 128+N status.
    trap 'stop_cluster "$dir"' EXIT
    # If this script is killed outright (SIGKILL, no trap runs), a watchdog still
    # stops the server and deletes the folder once this shell is gone.
    script_pid=$$
    (
      trap '' INT TERM HUP
      while kill -0 "$script_pid" 2>/dev/null; do sleep 1; done
      stop_cluster "$dir" 2>/dev/null
    ) </dev/null >/dev/null 2>&1 &
    log "PostgreSQL $("$(bindir)/postgres" --version | awk '{print $3}') on 127.0.0.1:$(cat "$dir/port") and $dir, for: $*"
    eval "$(print_env "$dir")"
    # CMD in the background, so that a signal to this script is handled at once
    # (bash runs a trap only after the foreground command ends) and passed on to
    # CMD before the cluster stops; stdin given explicitly (a background job's
    # would be /dev/null).
    "$@" <&0 &
    child=$!
    # SIGTERM for all three: a background job of a script ignores SIGINT.
    on_signal() {
      kill -TERM "$child" 2>/dev/null || true
      wait "$child" 2>/dev/null || true
      exit "$1"
    }
    trap 'on_signal 130' INT
    trap 'on_signal 143' TERM
    trap 'on_signal 129' HUP
    status=0
    wait "$child" || status=$?
    exit "$status"
    ;;
  -h | --help)
    sed -n '2,22s/^# \{0,1\}//p' "$0"
    ;;
  *)
    echo "scripts/pg.sh: start | stop [DIR] | run CMD [ARG...] (scripts/pg.sh --help)" >&2
    exit 2
    ;;
esac
