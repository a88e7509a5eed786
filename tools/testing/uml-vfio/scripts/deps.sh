#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Install missing Debian packages, saying what and why.
#
# Usage: deps.sh "why they are needed" PACKAGE...
set -euo pipefail

why=$1
shift

missing=()
for pkg in "$@"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]} ($why)" >&2
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: not root: run 'sudo apt-get install ${missing[*]}'" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt that holds the lock instead of failing.
apt_install() {
	apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends "${missing[@]}" >&2
}
if ! apt_install; then
	apt-get update -q >&2
	apt_install || { echo "deps: ERROR: could not install ${missing[*]}" >&2; exit 1; }
fi
