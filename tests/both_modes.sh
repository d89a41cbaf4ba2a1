#!/usr/bin/env bash
# The suite in both modes at once (`make test`). The halves share only the virtualenv: each
# stack has its own temp dir, free ports, PostgreSQL database and Redis prefix (harness.py),
# and each browser its own throwaway profile. Lines are prefixed live with the half's mode,
# each half's whole output is kept in var/test-<mode>.log, and the run fails if either does.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p var

run_half() {
  local mode=$1
  # pipefail: the half's status is pytest's, not sed's.
  HEARTH_TEST_MODE=$mode .venv/bin/pytest -q "${@:2}" 2>&1 \
    | tee "var/test-$mode.log" | sed -u "s/^/[$mode] /"
}

run_half embedded "$@" &
embedded=$!
run_half scaled "$@" &
scaled=$!
wait "$embedded"; embedded_status=$?
wait "$scaled"; scaled_status=$?

for mode in embedded scaled; do
  echo "[$mode] $(tail -n 1 "var/test-$mode.log")"
done
if [ "$embedded_status" -ne 0 ] || [ "$scaled_status" -ne 0 ]; then
  echo "failed: embedded exited $embedded_status, scaled exited $scaled_status" \
    "(whole logs: var/test-embedded.log, var/test-scaled.log)"
  exit 1
fi
