#!/usr/bin/env bash
# Cross-compiles the C++ core and its GoogleTest suite for aarch64 and runs the tests under QEMU
# user-mode emulation, proving the portable (baseline, 16-byte vector) kernel path on 64-bit Arm
# from an x86-64 Debian machine. Extra arguments go to ctest (e.g. -R test_gemm).
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(g++-aarch64-linux-gnu qemu-user googletest cmake ninja-build)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "== Installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

build_dir=build/aarch64
echo "== Cross-compiling for aarch64 into $build_dir"
cmake -S . -B "$build_dir" -G Ninja --toolchain cmake/aarch64-linux-gnu.cmake \
  -DCNNKIT_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build_dir"

echo "== C++ tests under qemu-aarch64"
ctest --test-dir "$build_dir" --output-on-failure "$@"
