#!/usr/bin/env bash
# shellcheck shell=bash
# PostgreSQL and Redis for dbgov: use the configured servers when they answer, otherwise
# start private instances under the git-ignored .services/ folder.
#
# Sourced by scripts/demo.sh and scripts/test.sh (`source scripts/services.sh`): afterwards
# DATABASE_URL, STAGING_DATABASE_URL and REDIS_URL are exported and point at servers that
# answer. Run directly it takes a command:
#
#   scripts/services.sh start    same as sourcing; prints `export ...` lines on stdout, so
#                                `eval "$(scripts/services.sh start)"` sets up your shell
#   scripts/services.sh status   what is configured, what answers, which private ones run
#   scripts/services.sh stop     stop the private instances (their data stays)
#   scripts/services.sh clean    stop them and delete .services/
#
# Environment:
#   DATABASE_URL          default postgres://postgres@127.0.0.1:5432/dbgov_demo
#   STAGING_DATABASE_URL  default postgres://postgres@127.0.0.1:5432/dbgov_staging
#   REDIS_URL             default redis://127.0.0.1:6379/0
#   DBGOV_SERVICES        auto (default): configured servers if they answer, else private;
#                         private: always private instances; external: never start any
#   DBGOV_SERVICES_DIR    where private instances live (default: <repo>/.services)
#   DBGOV_PG_PORT         first port tried for private PostgreSQL (default 55432)
#   DBGOV_REDIS_PORT      first port tried for private Redis (default 56379)
#
# Private PostgreSQL is created with initdb (user postgres, trust authentication, listening
# on 127.0.0.1 only, fsync off: it holds disposable data) and run with pg_ctl; when this
# script runs as root it runs the server as the `postgres` system user, which initdb
# requires. Private Redis keeps nothing on disk. Missing server binaries are installed
# from Debian's packages when running as root; otherwise the script says what to install.

DBGOV_ROOT="${DBGOV_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

_DBGOV_DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/dbgov_demo"
_DBGOV_DEFAULT_STAGING_DATABASE_URL="postgres://postgres@127.0.0.1:5432/dbgov_staging"
_DBGOV_DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"

_svc_log() { printf '[dbgov services] %s\n' "$*" >&2; }

_svc_dir() { printf '%s\n' "${DBGOV_SERVICES_DIR:-$DBGOV_ROOT/.services}"; }

_svc_python() {
    if [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
        printf '%s\n' "$VIRTUAL_ENV/bin/python"
    else
        command -v python3
    fi
}

# _svc_url_part URL FIELD -> one field of a URL (host, port, scheme, redacted)
_svc_url_part() {
    "$(_svc_python)" - "$1" "$2" <<'PY'
import sys
from urllib.parse import urlsplit

url, field = sys.argv[1], sys.argv[2]
u = urlsplit(url)
if field == "host":
    print(u.hostname or "")
elif field == "port":
    print(u.port or {"redis": 6379, "rediss": 6379}.get(u.scheme, 5432))
elif field == "redacted":
    netloc = u.netloc
    if u.password:
        netloc = netloc.replace(":" + u.password + "@", ":***@", 1)
    print(u._replace(netloc=netloc).geturl())
PY
}

# _svc_url_rewrite URL PORT USER -> URL pointing at 127.0.0.1:PORT (path and query kept)
_svc_url_rewrite() {
    "$(_svc_python)" - "$1" "$2" "${3:-}" <<'PY'
import sys
from urllib.parse import urlsplit

url, port, user = sys.argv[1], sys.argv[2], sys.argv[3]
u = urlsplit(url)
netloc = f"{user}@127.0.0.1:{port}" if user else f"127.0.0.1:{port}"
print(u._replace(netloc=netloc).geturl())
PY
}

# Does a PostgreSQL server answer at URL? (Authentication and database name don't matter.)
_svc_pg_answers() {
    local url="$1"
    # pg_isready is the quick yes; its no may also come from a broken client install
    # (Debian's wrapper without a client package), so the handshake below decides.
    if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -t 5 -d "$url" >/dev/null 2>&1; then
        return 0
    fi
    "$(_svc_python)" - "$url" <<'PY'
import os, socket, sys
from urllib.parse import unquote, urlsplit

u = urlsplit(sys.argv[1])
host = unquote(u.hostname or "") or "/var/run/postgresql"
port = u.port or 5432
try:
    if host.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(5)
        s.connect(os.path.join(host, f".s.PGSQL.{port}"))
    else:
        s = socket.create_connection((host, port), timeout=5)
    # An SSLRequest: any PostgreSQL server answers it with one byte, S or N.
    s.sendall(b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
    sys.exit(0 if s.recv(1) in (b"S", b"N") else 1)
except OSError:
    sys.exit(1)
PY
}

# Does a Redis server answer PING at URL?
_svc_redis_answers() {
    "$(_svc_python)" - "$1" <<'PY'
import socket, sys
from urllib.parse import unquote, urlsplit

u = urlsplit(sys.argv[1])


def command(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


try:
    s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=5)
    if u.password:
        auth = [unquote(u.username)] if u.username else []
        s.sendall(command("AUTH", *auth, unquote(u.password)))
        s.recv(256)
    s.sendall(command("PING"))
    sys.exit(0 if s.recv(64).startswith(b"+PONG") else 1)
except OSError:
    sys.exit(1)
PY
}

# Is something listening on 127.0.0.1:PORT?
_svc_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_svc_free_port() {
    local port="$1" last=$(($1 + 100))
    while ((port < last)); do
        if ! _svc_port_busy "$port"; then
            printf '%s\n' "$port"
            return 0
        fi
        port=$((port + 1))
    done
    _svc_log "error: no free port in $1..$last"
    return 1
}

_svc_apt_install() {
    if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        return 1
    fi
    # `apt-get update` once: skipped when this script ran it less than an hour ago (so
    # PostgreSQL, Redis and Chromium installed by one run update the lists once).
    local stamp="${TMPDIR:-/tmp}/dbgov-apt-updated"
    if [[ -z "$(find "$stamp" -mmin -60 2>/dev/null)" ]]; then
        _svc_log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        touch "$stamp"
    fi
    _svc_log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
}

# Directory holding initdb, pg_ctl and postgres, or nothing.
_svc_pg_bindir() {
    local dir candidate
    if candidate="$(command -v pg_ctl 2>/dev/null)"; then
        dir="$(dirname "$(readlink -f "$candidate")")"
        if [[ -x "$dir/initdb" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    fi
    # Debian/Ubuntu keep the server binaries off PATH; RHEL uses /usr/pgsql-N.
    for dir in $(ls -d /usr/lib/postgresql/*/bin /usr/pgsql-*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$dir/pg_ctl" && -x "$dir/initdb" && -x "$dir/postgres" ]]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    return 1
}

# The user that runs the private PostgreSQL (initdb refuses to run as root).
_svc_pg_user() {
    if [[ "$(id -u)" != 0 ]]; then
        id -un
    elif id postgres >/dev/null 2>&1; then
        echo postgres
    else
        useradd --system --no-create-home --shell /usr/sbin/nologin postgres >&2 && echo postgres
    fi
}

# Run a command as the private PostgreSQL's user.
_svc_as_pg() {
    local user
    user="$(_svc_pg_user)" || return 1
    if [[ "$(id -un)" == "$user" ]]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u "$user" -- "$@"
    else
        su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"
    fi
}

# The private PostgreSQL's folder: .services/postgres, or, when the server's user cannot
# reach that folder (a checkout under a private home as root), one under /tmp.
_svc_pg_dir() {
    local svc link
    svc="$(_svc_dir)"
    link="$svc/postgres.location"
    if [[ -f "$link" ]]; then
        cat "$link"
    else
        printf '%s\n' "$svc/postgres"
    fi
}

_svc_pg_prepare_dir() {
    local svc dir user hash
    svc="$(_svc_dir)"
    dir="$(_svc_pg_dir)"
    user="$(_svc_pg_user)" || return 1
    mkdir -p "$dir" || return 1
    chown "$user" "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    if _svc_as_pg test -w "$dir" -a -x "$dir"; then
        printf '%s\n' "$dir"
        return 0
    fi
    rmdir "$dir" 2>/dev/null || true
    hash="$(printf '%s' "$svc" | cksum | cut -d' ' -f1)"
    dir="${TMPDIR:-/tmp}/dbgov-services-$hash/postgres"
    _svc_log "user $user cannot reach $svc; the private PostgreSQL lives in $dir"
    mkdir -p "$dir" && chmod 755 "$(dirname "$dir")" && chown "$user" "$dir" && chmod 700 "$dir" || return 1
    printf '%s\n' "$dir" >"$svc/postgres.location"
    printf '%s\n' "$dir"
}

# Port of the running private PostgreSQL, or nothing.
_svc_pg_running_port() {
    local dir bindir
    dir="$(_svc_pg_dir)"
    [[ -f "$dir/data/postmaster.pid" ]] || return 1
    bindir="$(_svc_pg_bindir)" || return 1
    _svc_as_pg "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1 || return 1
    # postmaster.pid: pid, data dir, start time, port, ...
    sed -n 4p "$dir/data/postmaster.pid"
}

# Start (or reuse) the private PostgreSQL; prints its port.
_svc_pg_private_up() {
    local bindir dir port
    if port="$(_svc_pg_running_port)" && [[ -n "$port" ]] &&
        _svc_pg_answers "postgres://postgres@127.0.0.1:$port/postgres"; then
        _svc_log "PostgreSQL: reusing the private instance on 127.0.0.1:$port ($(_svc_pg_dir))"
        printf '%s\n' "$port"
        return 0
    fi
    if ! bindir="$(_svc_pg_bindir)"; then
        if _svc_apt_install postgresql && bindir="$(_svc_pg_bindir)"; then
            :
        else
            _svc_log "error: PostgreSQL does not answer at the configured URL, and its server"
            _svc_log "binaries (initdb, pg_ctl, postgres) are not installed to start a private one."
            _svc_log "Install them, e.g. on Debian/Ubuntu:  sudo apt-get install -y postgresql"
            _svc_log "(on macOS: brew install postgresql), or set DATABASE_URL and"
            _svc_log "STAGING_DATABASE_URL to a running PostgreSQL server."
            return 1
        fi
    fi
    dir="$(_svc_pg_prepare_dir)" || return 1
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        _svc_log "PostgreSQL: initdb $dir/data ($("$bindir/postgres" --version))"
        rm -rf "$dir/data"
        _svc_as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
            --no-locale --no-sync >"$dir/initdb.log" 2>&1 || {
            _svc_log "error: initdb failed; see $dir/initdb.log"
            tail -n 20 "$dir/initdb.log" >&2
            return 1
        }
        cat >>"$dir/data/postgresql.conf" <<'CONF'

# dbgov private instance (scripts/services.sh): disposable data, loopback only.
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
CONF
    fi
    # A free port may be taken between probing it and binding it (another checkout
    # starting its own instance): then try the next one.
    local first="${DBGOV_PG_PORT:-55432}" attempt
    for attempt in 1 2 3 4 5; do
        port="$(_svc_free_port "$first")" || return 1
        _svc_log "PostgreSQL: starting a private instance on 127.0.0.1:$port"
        if _svc_as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "-p $port" \
            -w -t 60 start >/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
        _svc_port_busy "$port" || break # failed for another reason than the port
        first=$((port + 1))
    done
    _svc_log "error: PostgreSQL did not start; see $dir/postgres.log"
    tail -n 20 "$dir/postgres.log" >&2
    return 1
}

_svc_pg_private_stop() {
    local dir bindir
    dir="$(_svc_pg_dir)"
    if [[ -f "$dir/data/postmaster.pid" ]] && bindir="$(_svc_pg_bindir)"; then
        _svc_log "PostgreSQL: stopping the private instance ($dir)"
        _svc_as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
}

_svc_redis_dir() { printf '%s/redis\n' "$(_svc_dir)"; }

_svc_redis_running_port() {
    local dir pid port
    dir="$(_svc_redis_dir)"
    [[ -f "$dir/redis.pid" && -f "$dir/port" ]] || return 1
    pid="$(cat "$dir/redis.pid")"
    port="$(cat "$dir/port")"
    kill -0 "$pid" 2>/dev/null || return 1
    _svc_redis_answers "redis://127.0.0.1:$port/0" || return 1
    printf '%s\n' "$port"
}

# Start (or reuse) the private Redis; prints its port.
_svc_redis_private_up() {
    local dir port server i
    dir="$(_svc_redis_dir)"
    if port="$(_svc_redis_running_port)"; then
        _svc_log "Redis: reusing the private instance on 127.0.0.1:$port"
        printf '%s\n' "$port"
        return 0
    fi
    if ! { server="$(command -v redis-server)" && [[ -x "$server" ]]; }; then
        if _svc_apt_install redis-server && server="$(command -v redis-server)" && [[ -x "$server" ]]; then
            :
        else
            _svc_log "error: Redis does not answer at REDIS_URL, and redis-server is not"
            _svc_log "installed to start a private one. Install it, e.g. on Debian/Ubuntu:"
            _svc_log "  sudo apt-get install -y redis-server"
            _svc_log "(on macOS: brew install redis), or set REDIS_URL to a running Redis."
            return 1
        fi
    fi
    mkdir -p "$dir" || return 1
    local first="${DBGOV_REDIS_PORT:-56379}" attempt pid
    for attempt in 1 2 3 4 5; do
        port="$(_svc_free_port "$first")" || return 1
        _svc_log "Redis: starting a private instance on 127.0.0.1:$port (nothing kept on disk)"
        rm -f "$dir/redis.pid"
        "$server" --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no \
            --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" >&2 || return 1
        printf '%s\n' "$port" >"$dir/port"
        # Ours is up when its pid file names a live process and the port answers PING (a
        # server that could not bind the port exits before writing the pid file).
        for i in $(seq 1 50); do
            pid="$(cat "$dir/redis.pid" 2>/dev/null || true)"
            if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
                _svc_redis_answers "redis://127.0.0.1:$port/0"; then
                printf '%s\n' "$port"
                return 0
            fi
            sleep 0.2
        done
        _svc_port_busy "$port" || break
        first=$((port + 1))
    done
    _svc_log "error: Redis did not start; see $dir/redis.log"
    tail -n 20 "$dir/redis.log" >&2
    return 1
}

_svc_redis_private_stop() {
    local dir pid i
    dir="$(_svc_redis_dir)"
    [[ -f "$dir/redis.pid" ]] || return 0
    pid="$(cat "$dir/redis.pid")"
    if kill -0 "$pid" 2>/dev/null; then
        _svc_log "Redis: stopping the private instance (pid $pid)"
        kill "$pid"
        for i in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    rm -f "$dir/redis.pid"
}

# Make PostgreSQL and Redis available and export the three URLs.
dbgov_services_up() {
    local mode="${DBGOV_SERVICES:-auto}" var url port default
    local -a pg_missing=()
    case "$mode" in
        auto | private | external) ;;
        *)
            _svc_log "error: DBGOV_SERVICES must be auto, private or external (got '$mode')"
            return 1
            ;;
    esac

    for var in DATABASE_URL STAGING_DATABASE_URL; do
        default="_DBGOV_DEFAULT_$var"
        url="${!var:-${!default}}"
        export "$var=$url"
        if [[ "$mode" == private ]] || ! _svc_pg_answers "$url"; then
            pg_missing+=("$var")
        fi
    done
    if ((${#pg_missing[@]})); then
        if [[ "$mode" == external ]]; then
            _svc_log "error: PostgreSQL does not answer at ${pg_missing[*]} (DBGOV_SERVICES=external)"
            return 1
        fi
        [[ "$mode" == private ]] || _svc_log "PostgreSQL does not answer at ${pg_missing[*]}"
        port="$(_svc_pg_private_up)" || return 1
        for var in "${pg_missing[@]}"; do
            export "$var=$(_svc_url_rewrite "${!var}" "$port" postgres)"
        done
    fi

    url="${REDIS_URL:-$_DBGOV_DEFAULT_REDIS_URL}"
    export REDIS_URL="$url"
    if [[ "$mode" == private ]] || ! _svc_redis_answers "$url"; then
        if [[ "$mode" == external ]]; then
            _svc_log "error: Redis does not answer at REDIS_URL (DBGOV_SERVICES=external)"
            return 1
        fi
        [[ "$mode" == private ]] || _svc_log "Redis does not answer at REDIS_URL"
        port="$(_svc_redis_private_up)" || return 1
        export REDIS_URL="$(_svc_url_rewrite "$url" "$port" "")"
    fi

    for var in DATABASE_URL STAGING_DATABASE_URL REDIS_URL; do
        _svc_log "$var=$(_svc_url_part "${!var}" redacted)"
    done
}

dbgov_services_stop() {
    _svc_pg_private_stop
    _svc_redis_private_stop
}

dbgov_services_status() {
    local var url port default state
    for var in DATABASE_URL STAGING_DATABASE_URL REDIS_URL; do
        default="_DBGOV_DEFAULT_$var"
        url="${!var:-${!default}}"
        if [[ "$var" == REDIS_URL ]]; then
            _svc_redis_answers "$url" && state=answers || state="does not answer"
        else
            _svc_pg_answers "$url" && state=answers || state="does not answer"
        fi
        printf '%-21s %s (%s)\n' "$var" "$(_svc_url_part "$url" redacted)" "$state"
    done
    if port="$(_svc_pg_running_port)"; then
        printf 'private PostgreSQL    running on 127.0.0.1:%s (%s)\n' "$port" "$(_svc_pg_dir)"
    else
        printf 'private PostgreSQL    not running\n'
    fi
    if port="$(_svc_redis_running_port)"; then
        printf 'private Redis         running on 127.0.0.1:%s (%s)\n' "$port" "$(_svc_redis_dir)"
    else
        printf 'private Redis         not running\n'
    fi
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: make the services available in the caller's environment.
    dbgov_services_up || return 1
else
    set -uo pipefail
    case "${1:-start}" in
        start)
            dbgov_services_up || exit 1
            for _var in DATABASE_URL STAGING_DATABASE_URL REDIS_URL; do
                printf 'export %s=%q\n' "$_var" "${!_var}"
            done
            ;;
        stop) dbgov_services_stop ;;
        clean)
            dbgov_services_stop
            _svc_pg_location="$(_svc_pg_dir)"
            rm -rf "$_svc_pg_location" "$(_svc_dir)"
            rmdir "$(dirname "$_svc_pg_location")" 2>/dev/null || true
            _svc_log "removed $(_svc_dir)"
            ;;
        status) dbgov_services_status ;;
        *)
            echo "usage: scripts/services.sh [start|status|stop|clean]" >&2
            exit 2
            ;;
    esac
fi
