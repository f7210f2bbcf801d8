#!/usr/bin/env bash
# Every test, on a machine that has the .NET 10 SDK and Node.js (20 or later): installs what the
# tests need when it is missing, then runs the .NET suites and the TypeScript client's checks.
# Idempotent: what is already there is not installed again.
#
#   ./test.sh              everything
#   ./test.sh --no-install check only, and say what is missing instead of installing it
set -euo pipefail
cd "$(dirname "$0")"

install=1
if [ "${1:-}" = "--no-install" ]; then install=0; fi

for tool in dotnet node npm; do
  if ! command -v "$tool" > /dev/null; then
    echo "test.sh: '$tool' is not on PATH. The tests need the .NET 10 SDK and Node.js 20.11 or later with npm." >&2
    exit 1
  fi
done

# From the distribution (Debian's package names): the browser tests drive Chromium through
# Playwright for .NET (Playwright's own browser download does not work here) and a CJK font lets the
# Chinese pages render in their screenshots; Api.Tests.Postgres makes a throwaway PostgreSQL server of
# its own from the postgresql package's initdb and pg_ctl, and removes it at the end.
missing=()
command -v chromium > /dev/null || missing+=(chromium)
{ command -v dpkg > /dev/null && dpkg -s fonts-wqy-zenhei > /dev/null 2>&1; } || fc-list 2> /dev/null | grep -qi 'WenQuanYi Zen Hei' || missing+=(fonts-wqy-zenhei)
compgen -G "/usr/lib/postgresql/*/bin/initdb" > /dev/null || missing+=(postgresql)
# The Prometheus project's own parser of its text format reads what GET /metrics serves.
/usr/bin/python3 -c "import prometheus_client.parser" 2> /dev/null || missing+=(python3-prometheus-client)
# SpamAssassin's local rules score every kind of mail in each language.
command -v spamassassin > /dev/null || missing+=(spamassassin)
if ((${#missing[@]})); then
  if ((install == 0)) || ! command -v apt-get > /dev/null; then
    echo "test.sh: the tests need these packages: ${missing[*]} (Chromium at /usr/bin/chromium, PostgreSQL's server binaries under /usr/lib/postgresql)." >&2
    echo "test.sh: on Debian or Ubuntu: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
  echo "test.sh: installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# The TypeScript client first, as it fails fast: its generated types must be openapi.json's
# (the .NET suite checks openapi.json against the document the API serves), and the client, its
# tests and the demo SPA must type-check against them.
(
  cd clients/typescript
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent check:generated
  npm run --silent build
  npm run --silent check:tests
  npm run --silent check:demo
)

# Unit, integration and browser tests, on SQLite and on PostgreSQL; reference checkers from npm.
dotnet test

# The client's story against the real API (built above) and a real SMTP server.
(cd clients/typescript && node --test test/*.test.js)
