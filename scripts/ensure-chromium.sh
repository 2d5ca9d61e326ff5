#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core, which downloads no browser.
# `npm test` runs this first so that one command sets everything up on a fresh machine.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  # say what is about to change on this machine before changing it
  echo "[asc-access] chromium is missing; the browser tests (test/e2e/browser.test.ts) need it." >&2
  echo "[asc-access] running as root, so installing it now with:" >&2
  echo "[asc-access]   apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  echo "[asc-access] (Debian's 'chromium' package and the libraries it depends on)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  echo "[asc-access] installed: $(chromium --version 2>/dev/null || echo chromium)" >&2
else
  echo "[asc-access] chromium is missing: install Debian's 'chromium' package (sudo apt-get install chromium)" >&2
  exit 1
fi
