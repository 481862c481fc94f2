#!/usr/bin/env bash
# The project's test command (README, CI): installs what the tests need on a fresh Debian machine, then checks
# formatting and lints and runs every test. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages the tests use, by the command that proves each is there.
# The keyring tests need a real OS store: a private Secret Service (gnome-keyring in a D-Bus session).
declare -A packages=([dbus-run-session]=dbus [gnome-keyring-daemon]=gnome-keyring)
missing=()
for cmd in "${!packages[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${packages[$cmd]}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: please install: ${missing[*]} (apt-get install ${missing[*]}, as root)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cargo fmt --all -- --check
cargo clippy --locked --all-targets -- -D warnings
# Every test runs with a real OS keyring, so no secret can pass through an in-memory mock.
sh scripts/with-keyring.sh cargo test --locked
