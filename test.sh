#!/usr/bin/env bash
# Runs every Clearflow test on a fresh machine, installing what is missing first:
# PostgreSQL server binaries (the suite starts its own throwaway server), Chromium (browser tests) and
# npm (the build fetches the dashboard's chart library from the npm registry).
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${missing[*]} ..."
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

results="$(mktemp -d)"
# The test hosts append their unhandled request errors (500s) here; printed below if the run fails.
host_errors="${TMPDIR:-/tmp}/clearflow-test-host-errors.log"
# ... and their background workers' warnings (a failed round, an event or task that threw).
worker_warnings="${TMPDIR:-/tmp}/clearflow-test-worker-warnings.log"
rm -f "$host_errors" "$worker_warnings"
trap 'rm -rf "$results"' EXIT
set +e
dotnet test Clearflow.slnx --nologo 2>&1 | tee "$results/out.txt" \
  | grep -E --line-buffered "^\s*(Passed|Failed)!|^\s+Failed |error|Error Message|^\s+(Assert|Expected|Actual)" 
status=${PIPESTATUS[0]}
set -e

# One closing line for the whole run, summed over the test assemblies.
awk -F'[:,]' '/(Passed|Failed)! *- *Failed:/ { failed += $2; passed += $4; skipped += $6 }
  END { printf "Tests: %d passed, %d failed, %d skipped\n", passed, failed, skipped }' "$results/out.txt"
[ -d artifacts/screenshots ] && echo "Browser screenshots: artifacts/screenshots/"
if [ "$status" -ne 0 ]; then
  echo "Failed tests, with their messages:"
  { grep -E -A 25 "^\s+Failed [A-Za-z]" "$results/out.txt" || true; } | head -n 300
fi
if [ "$status" -ne 0 ] && [ -s "$host_errors" ]; then
  echo "Unhandled errors in the test hosts (500s), first lines of $host_errors:"
  head -n 200 "$host_errors"
fi
if [ "$status" -ne 0 ] && [ -s "$worker_warnings" ]; then
  # Fault-injection tests cause some of these on purpose; compare their times with the failed test's.
  echo "Background worker warnings in the test hosts ($(grep -cE '^[0-9]{4}-' "$worker_warnings" || true) entries), last lines of $worker_warnings:"
  tail -n 150 "$worker_warnings"
fi
if [ "$status" -eq 0 ] && ! grep -qE "(Passed|Failed)! *- *Failed:" "$results/out.txt"; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"
