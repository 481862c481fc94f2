#!/bin/sh
# Runs a command with a real OS keyring, so the keyring tests exercise the OS store rather than a mock.
# With gnome-keyring installed: a private D-Bus session with an unlocked gnome-keyring-daemon (Secret Service).
# Without it: the Linux kernel keyring (keyutils), which every process of this session shares.
# Usage: scripts/with-keyring.sh cargo test --test m365_keyring
set -eu
if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi
if command -v dbus-run-session >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    exec dbus-run-session -- sh -c '
        # An empty password on stdin creates and unlocks the login keyring for this throwaway session.
        eval "$(printf "" | gnome-keyring-daemon --unlock --components=secrets)"
        export CUTOVER_KEYRING=secret-service
        exec "$@"
    ' with-keyring "$@"
fi
echo "with-keyring: gnome-keyring-daemon not found; using the kernel keyring (keyutils)" >&2
CUTOVER_KEYRING=kernel-keyring exec "$@"
