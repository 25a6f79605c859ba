#!/usr/bin/env bash
# The project's single test command. On a fresh machine with only the Rust toolchain and
# python3 it installs what the tests need, then runs every check:
#   1. Debian's redis-server (the differential test's oracle), if missing;
#   2. .venv with the pinned test requirements (tests/python/requirements.txt, then
#      requirements-nodeps.txt without dependency resolution);
#   3. cargo fmt --check, cargo clippy --all-targets -D warnings, cargo test (all tests;
#      builds the ferrostack binary), pytest tests/python.
# Every stage runs even when an earlier one failed; the exit status is non-zero if any did.
# A second run skips the installs and reuses the build, so it is quick.
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV="$ROOT/.venv"
REQUIREMENTS="$ROOT/tests/python/requirements.txt"
# Installed after it with --no-deps (see the file for why).
REQUIREMENTS_NODEPS="$ROOT/tests/python/requirements-nodeps.txt"

log() { printf '\n==> %s\n' "$*"; }
die() { printf 'run_all: %s\n' "$*" >&2; exit 1; }

# apt-get as root, through sudo otherwise; `apt-get update` once per run, only when needed.
APT_UPDATED=
apt_install() {
    local sudo=
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to apt-get install $*"
        sudo=sudo
    fi
    if [ -z "$APT_UPDATED" ]; then
        $sudo apt-get update -qq || die "apt-get update failed"
        APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" \
        || die "apt-get install $* failed"
}

install_redis() {
    if command -v redis-server >/dev/null; then
        return
    fi
    log "installing Debian's redis-server (oracle of the differential test)"
    apt_install redis-server
    command -v redis-server >/dev/null || die "redis-server still missing after install"
}

# Creates .venv (installing Debian's venv module if python3 lacks it) and installs the pinned
# requirements when they changed since the last install.
install_python_env() {
    command -v python3 >/dev/null || die "python3 is required"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating $VENV"
        rm -rf "$VENV"
        if ! python3 -m venv "$VENV" 2>/dev/null; then
            # Debian's python3 ships venv separately.
            rm -rf "$VENV"
            apt_install python3-venv
            python3 -m venv "$VENV" || die "cannot create a virtualenv with python3"
        fi
    fi
    local stamp="$VENV/.requirements.sha256" want
    want=$(cat "$REQUIREMENTS" "$REQUIREMENTS_NODEPS" | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log "installing Python test requirements"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q -r "$REQUIREMENTS" \
            || die "pip install failed"
        "$VENV/bin/python" -m pip install --disable-pip-version-check -q --no-deps \
            -r "$REQUIREMENTS_NODEPS" || die "pip install --no-deps failed"
        echo "$want" >"$stamp"
    fi
}

install_redis
install_python_env
printf 'redis-server %s, %s, redis-py %s\n' \
    "$(redis-server --version | grep -o 'v=[^ ]*')" \
    "$("$VENV/bin/python" --version)" \
    "$("$VENV/bin/python" -c 'import redis; print(redis.__version__)')"

RESULTS=()
FAILED=()
stage() {
    local name=$1
    shift
    log "$name: $*"
    if "$@"; then
        RESULTS+=("ok      $name")
    else
        RESULTS+=("FAILED  $name")
        FAILED+=("$name")
    fi
}

stage fmt cargo fmt --check
stage clippy cargo clippy --all-targets -- -D warnings
# --no-fail-fast: run every test binary even after one fails.
stage cargo-test cargo test --no-fail-fast
# pytest needs the binary `cargo test` built; its exit status 5 (no tests) counts as failure.
stage pytest "$VENV/bin/python" -m pytest tests/python -q --tb=short

log "summary"
printf '  %s\n' "${RESULTS[@]}"
if [ ${#FAILED[@]} -gt 0 ]; then
    printf 'run_all: failed: %s\n' "${FAILED[*]}"
    exit 1
fi
echo "run_all: all checks passed"
