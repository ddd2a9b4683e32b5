#!/usr/bin/env bash
# Installs the peers the tests run against that a bare machine does not carry:
#   - Debian packages: redis-server (Redis store, many replicas) and chromium (the
#     hosted UI sign-in driven in a real browser), when missing, as root or with
#     passwordless sudo;
#   - awscli (AWS CLI v2, /usr/bin/aws) for the set-up script the tests run; a
#     pyenv shim `aws` earlier on PATH may be v1, so tests call /usr/bin/aws;
#   - npm packages under test/js: amazon-cognito-identity-js, aws-jwt-verify,
#     aws-amplify (v6).
# moto's server and boto3 are Python packages expected on the machine (PyPI is not
# reachable from here). A peer that cannot be had makes its tests skip with a
# message, or fail under COGAUTH_REQUIRE_PEERS=1 (.ci/run).
set -uo pipefail
cd "$(dirname "$0")/.."

warn() { echo "peers: $*" >&2; }

# apt_install PACKAGE: quietly, with an index update only when the first try fails.
apt_install() {
  local s=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null || return 1
    s="sudo -n"
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  { $s apt-get install -y -qq "$1" || { $s apt-get update -qq && $s apt-get install -y -qq "$1"; }; } >/dev/null 2>&1
}

command -v redis-server >/dev/null 2>&1 || apt_install redis-server ||
  warn "redis-server not installed; Redis tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)"

[ -x /usr/bin/aws ] || apt_install awscli ||
  warn "awscli (AWS CLI v2) not installed; the AWS CLI set-up test will skip (fail under COGAUTH_REQUIRE_PEERS=1)"

if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1 && [ -z "${COGAUTH_CHROMIUM:-}" ]; then
  apt_install chromium || warn "chromium not installed; browser tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)"
fi

if [ -f test/js/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    warn "npm not found; JS peer tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)"
  elif [ ! -d test/js/node_modules ] || [ test/js/package.json -nt test/js/node_modules ] || [ test/js/package-lock.json -nt test/js/node_modules ]; then
    if (cd test/js && { npm ci --no-audit --no-fund --loglevel=error 2>/dev/null || npm install --no-audit --no-fund --loglevel=error; }); then
      touch test/js/node_modules
    else
      warn "npm install failed in test/js; JS peer tests will skip (fail under COGAUTH_REQUIRE_PEERS=1)"
    fi
  fi
fi
exit 0
