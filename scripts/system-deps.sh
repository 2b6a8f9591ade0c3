#!/usr/bin/env bash
# Installs the Debian packages schoolwatch's tests use, when they are missing:
#   chromium    - headless browser tests of the web app and the digest
#   postgresql  - the tests start their own PostgreSQL server next to SQLite
# Needs root (as in CI) or sudo; otherwise it says what to install and carries on.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi dejavu || missing+=(fonts-dejavu-core)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO="sudo"
else
  echo "schoolwatch: please install these Debian packages: ${missing[*]}" >&2
  echo "  sudo apt-get install -y ${missing[*]}" >&2
  exit 0
fi

echo "Installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
