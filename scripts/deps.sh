#!/usr/bin/env bash
# Installs the Debian 12 packages Billow needs to build, run and test, only
# those that are missing. Idempotent: prints "nothing needed" when all are
# there. Uses sudo when not run as root.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config kore
	postgresql-15 postgresql-client-15 redis-server
	libpq-dev libjansson-dev libhiredis-dev liblua5.4-dev lua5.4
	check libjwt-dev libargon2-dev libcurl4-openssl-dev libssl-dev
	wrk nginx-light curl ca-certificates python3
)

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: nothing needed"
	exit 0
fi

echo "deps: installing ${missing[*]}"

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "deps: error: not root and no sudo; install as root:" \
		    "apt-get install ${missing[*]}" >&2
		exit 1
	fi
	sudo=(sudo)
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q "${missing[@]}"
