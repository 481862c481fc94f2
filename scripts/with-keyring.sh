#!/bin/sh
# Runs a command with a real OS keyring, so the keyring tests exercise the OS store rather than a mock.
# With gnome-keyring installed: a private D-Bus session with a throwaway, unlocked gnome-keyring-daemon
# (Secret Service); the user's own keyrings are not touched. Without it: the Linux kernel keyring (keyutils),
# shared by every process of this session (note: Docker's default seccomp profile blocks keyctl; install
# gnome-keyring there).
# Usage: scripts/with-keyring.sh cargo test --test m365_keyring
set -eu
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    exec dbus-run-session -- sh -c '
        set -eu
        store=$(mktemp -d)
        trap "rm -rf \"$store\"" EXIT
        # The daemon keeps its keyrings under XDG_DATA_HOME: a temporary one. A non-empty password on stdin
        # makes it create the login keyring (the default collection) and unlock it.
        printf "cutover-ci" | XDG_DATA_HOME="$store" gnome-keyring-daemon --unlock --components=secrets >/dev/null
        CUTOVER_KEYRING=secret-service "$@"
    ' with-keyring "$@"
fi
echo "with-keyring: gnome-keyring-daemon not found; using the kernel keyring (keyutils)" >&2
CUTOVER_KEYRING=kernel-keyring exec "$@"
