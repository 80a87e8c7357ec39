#!/usr/bin/env bash
# The panel's browser tests and benchmark drive Debian's Chromium (/usr/bin/chromium) with
# playwright-core. Installs it only when it is missing.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium
