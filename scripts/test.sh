#!/usr/bin/env bash
# Run dbgov's whole test suite: the README's test command.
#
#   scripts/test.sh [pytest arguments]      e.g. scripts/test.sh tests/analysis -x
#
# Creates/updates the virtualenv (scripts/bootstrap.sh), makes PostgreSQL and Redis
# available (scripts/services.sh: the configured URLs, or private instances), installs
# Debian's Chromium for the browser tests when it is missing and we are root, then runs
# `python -m pytest` with the given arguments. Exits with pytest's exit code.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/bootstrap.sh
source scripts/bootstrap.sh
# shellcheck source=scripts/services.sh
source scripts/services.sh

# The browser tests drive Debian's Chromium; Playwright never downloads a browser here.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export DBGOV_CHROMIUM="${DBGOV_CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$DBGOV_CHROMIUM" ]]; then
    if [[ "$(id -u)" == 0 && "$DBGOV_CHROMIUM" == /usr/bin/chromium ]] && command -v apt-get >/dev/null; then
        echo "[dbgov] installing Debian's chromium for the browser tests" >&2
        _svc_apt_install chromium # from scripts/services.sh
    else
        echo "[dbgov] warning: no Chromium at $DBGOV_CHROMIUM: the browser tests will be skipped" >&2
        echo "[dbgov]   (in CI they fail). Install it: sudo apt-get install -y chromium," >&2
        echo "[dbgov]   or set DBGOV_CHROMIUM to a Chromium/Chrome executable." >&2
    fi
fi

exec python -m pytest "$@"
