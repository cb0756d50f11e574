#!/usr/bin/env bash
# Installs the Debian packages the system and its tests use. Idempotent: when everything is
# present it does nothing (no apt-get update), so `make test` stays fast on a prepared machine.
set -euo pipefail

packages=(ffmpeg samba smbclient redis-server chromium sqlite3 nodejs npm
    fonts-nanum)  # Korean glyphs in the browser tests' screenshots
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# node may come from elsewhere than Debian's package; npm likewise.
if command -v node >/dev/null 2>&1; then
    missing=("${missing[@]/nodejs}")
fi
if command -v npm >/dev/null 2>&1; then
    missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-system: run as root to install: ${missing[*]}" >&2
    exit 1
fi
echo "install-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts these as services on install; the project starts its own on loopback ports.
for svc in smbd nmbd samba-ad-dc redis-server; do
    (command -v systemctl >/dev/null && systemctl disable --now "$svc" >/dev/null 2>&1) || true
done
