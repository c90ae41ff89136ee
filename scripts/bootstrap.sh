# shellcheck shell=bash
# Create the project's virtualenv and install dbgov into it (editable, with the [dev] extras).
#
# Sourced by scripts/demo.sh, scripts/test.sh and .ci/run:
#
#     source scripts/bootstrap.sh
#
# Afterwards the virtualenv is active (PATH, VIRTUAL_ENV). The install runs only when
# the virtualenv is missing or when pyproject.toml (or the extra requirements) changed
# since the last install: a stamp file inside the virtualenv remembers what was installed.
#
# Environment (all optional):
#   DBGOV_VENV          virtualenv folder, relative to the repository (default: .venv)
#   DBGOV_PYTHON        interpreter to create it with (default: the first of python3,
#                       python3.13, python3.12, python3.11 that is Python >= 3.11)
#   DBGOV_EXTRA_REQS    extra requirements installed with the project, space-separated
#                       (e.g. "Django>=6,<7" for the Django 6 CI run)

DBGOV_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DBGOV_ROOT
# Never let Playwright fetch a browser build of its own: tests use Debian's Chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

_dbgov_log() { printf '[dbgov] %s\n' "$*" >&2; }

# Print the path of a usable interpreter (Python >= 3.11), or nothing.
_dbgov_find_python() {
    local candidate
    for candidate in ${DBGOV_PYTHON:-python3 python3.13 python3.12 python3.11}; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
            # Resolve pyenv shims and the like to the real interpreter.
            "$candidate" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

_dbgov_bootstrap() {
    local venv="$DBGOV_ROOT/${DBGOV_VENV:-.venv}"
    local stamp="$venv/.dbgov-install-stamp"
    local python want

    if [[ -x "$venv/bin/python" ]] &&
        ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
        _dbgov_log "$venv is broken or older than Python 3.11: recreating it"
        rm -rf "$venv"
    fi

    if [[ ! -x "$venv/bin/python" ]]; then
        if ! python="$(_dbgov_find_python)"; then
            _dbgov_log "error: dbgov needs Python >= 3.11 (with the venv module) and found none."
            _dbgov_log "Install one (Debian/Ubuntu: apt-get install python3 python3-venv) or set DBGOV_PYTHON."
            return 1
        fi
        _dbgov_log "creating $venv with $python ($("$python" --version 2>&1))"
        "$python" -m venv "$venv" || return 1
    fi

    # What the stamp records: the project's dependency declaration and the extras.
    want="$( (cat "$DBGOV_ROOT/pyproject.toml"; printf 'extra: %s\n' "${DBGOV_EXTRA_REQS:-}") |
        "$venv/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
    if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
        local log="$venv/pip-install.log"
        _dbgov_log "installing dbgov and its [dev] extras into $venv ${DBGOV_EXTRA_REQS:+(with $DBGOV_EXTRA_REQS) }(log: $log)"
        # shellcheck disable=SC2086  # DBGOV_EXTRA_REQS is a space-separated list
        if ! (cd "$DBGOV_ROOT" &&
            "$venv/bin/python" -m pip install --disable-pip-version-check --upgrade pip &&
            "$venv/bin/python" -m pip install --disable-pip-version-check \
                -e ".[dev]" ${DBGOV_EXTRA_REQS:-}) >"$log" 2>&1; then
            grep -v "^WARNING: Location 'file:" "$log" | tail -n 40 >&2
            _dbgov_log "error: pip install failed (full log: $log); $venv left without a stamp"
            rm -f "$stamp"
            return 1
        fi
        printf '%s\n' "$want" >"$stamp"
    fi

    export VIRTUAL_ENV="$venv"
    case ":$PATH:" in
        *":$venv/bin:"*) ;;
        *) export PATH="$venv/bin:$PATH" ;;
    esac
    hash -r
}

_dbgov_bootstrap || { return 1 2>/dev/null || exit 1; }
