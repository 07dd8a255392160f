#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, then the C++ tests
# (GoogleTest via ctest), the same C++ tests under AddressSanitizer + UBSan, and the Python tests.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh

echo "== C++ tests"
cmake -S . -B build/tests -G Ninja -DCNNKIT_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/tests
ctest --test-dir build/tests --output-on-failure

echo "== C++ tests under AddressSanitizer and UndefinedBehaviorSanitizer"
cmake -S . -B build/sanitize -G Ninja -DCNNKIT_BUILD_TESTS=ON -DCNNKIT_SANITIZE=ON \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/sanitize
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/sanitize --output-on-failure

echo "== Python tests"
.venv/bin/python -m pytest "$@"
