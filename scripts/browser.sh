#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; it never downloads a browser).
set -uo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) \
    >/tmp/kefu-chromium-install.log 2>&1 || { tail -n 20 /tmp/kefu-chromium-install.log; exit 1; }
else
  echo "No /usr/bin/chromium and not root: browser tests will be skipped." >&2
fi
