#!/usr/bin/env bash
# The long kill -9 check: 1000 cycles of kill -9 during an idempotency-keyed upload
# stream (the test suite runs 100). Build first (tools/quickstart.sh test does).
#   tools/crash-test.sh [CYCLES] [BUILD_DIR]
# Each run prints its seed ("crash test seed N"); to replay a failure's kill timings:
#   LABTRACE_CRASH_SEED=N tools/crash-test.sh [CYCLES] [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
LABTRACE_CRASH_CYCLES=${1:-1000} "${2:-build}/tests/labtrace_integration_tests" --gtest_filter='CrashRecovery.*'
