#!/usr/bin/env bash
# Installs the peers the tests run against that the machine does not carry:
# npm packages (amazon-cognito-identity-js, aws-jwt-verify) under test/js.
# moto's server and boto3 are Python packages on the machine; tests skip without
# them, or fail under COGAUTH_REQUIRE_PEERS=1.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f test/js/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "peers: npm not found; JS peer tests will skip" >&2
    [ "${COGAUTH_REQUIRE_PEERS:-}" = 1 ] && exit 1
    exit 0
  fi
  if [ ! -d test/js/node_modules ] || [ test/js/package.json -nt test/js/node_modules ]; then
    (cd test/js && npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error)
    touch test/js/node_modules
  fi
fi
command -v redis-server >/dev/null 2>&1 || { if [ "$(id -u)" = 0 ]; then S=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then S="sudo -n"; else false; fi && { $S apt-get install -y -qq redis-server || { $S apt-get update -qq && $S apt-get install -y -qq redis-server; }; } >/dev/null 2>&1; } || echo "peers: redis-server not installed; Redis tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)" >&2
# Chromium for the hosted UI browser tests (hostedui/browsertest drives it over the DevTools pipe).
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || [ -n "${COGAUTH_CHROMIUM:-}" ] || { if [ "$(id -u)" = 0 ]; then S=; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then S="sudo -n"; else false; fi && { $S apt-get install -y -qq chromium || { $S apt-get update -qq && $S apt-get install -y -qq chromium; }; } >/dev/null 2>&1; } || echo "peers: chromium not installed; browser tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)" >&2
