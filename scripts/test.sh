#!/usr/bin/env bash
# Install what is missing, build (tests on) and run every test.
# Extra arguments go to ctest, e.g. `scripts/test.sh -R config` or `-L LABEL`; labels: unit, e2e, cuda, checks, slow.
# Environment: MODNET_TEST_JOBS (default 2), MODNET_TEST_TIMEOUT (seconds per test, default 900),
# plus those of scripts/setup.sh.
set -euo pipefail
start=$SECONDS
report_time() { echo "[modnet] test.sh total wall time: $((SECONDS - start)) s"; }
trap report_time EXIT

# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
modnet_setup
modnet_build -DMODNET_BUILD_TESTS=ON

# --no-tests=error: a run that finds no test (or a -R that matches none) fails.
tests_start=$SECONDS
status=0
ctest --test-dir "$MODNET_BUILD_DIR" --output-on-failure --no-tests=error \
  -j"${MODNET_TEST_JOBS:-2}" --timeout "${MODNET_TEST_TIMEOUT:-900}" "$@" || status=$?
modnet_log "tests wall time: $((SECONDS - tests_start)) s"
exit "$status"
