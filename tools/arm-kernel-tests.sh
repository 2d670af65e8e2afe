#!/usr/bin/env bash
# Builds the C++ kernel test harness (csrc/tests/) and runs it on this machine and, cross-built
# for aarch64, under qemu-aarch64 on three CPU models:
#   max         (qemu's default: asimd + dotprod)  -> levels baseline, neon, neon_dot
#   cortex-a76  (ARMv8.2 with dotprod)             -> baseline, neon, neon_dot
#   cortex-a53  (ARMv8.0, no dotprod)              -> baseline, neon (detection falls back)
#
# and once more built with AddressSanitizer + UBSan (dynamically linked against the cross
# sysroot's libasan), so a NEON load past a buffer fails the run under qemu too.
#
#   tools/arm-kernel-tests.sh [host|aarch64|aarch64-asan|all]      (default: all)
#
# Build trees go to build/kernel-tests/{host,aarch64,aarch64-asan} (git-ignored; reused).
# Needs cmake and g++; the aarch64 part needs aarch64-linux-gnu-g++ and qemu-aarch64
# (Debian/Ubuntu: apt-get install g++-aarch64-linux-gnu qemu-user) and exits 77 without them.
# The aarch64 harness is linked statically, so qemu needs no target libraries; -L points qemu
# at the cross sysroot anyway, for a dynamically linked build.
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
root="${XINRT_KERNEL_TEST_BUILD:-build/kernel-tests}"
jobs="${XINRT_BUILD_JOBS:-2}"
sysroot="${XINRT_AARCH64_SYSROOT:-/usr/aarch64-linux-gnu}"

configure_and_build() {  # dir, extra cmake args...
  local dir="$1"
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DXINRT_BUILD_TESTS=ON "$@" > "$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; return 1; }
  cmake --build "$dir" -j "$jobs" --target kernel_tests
}

run_host() {
  echo "== host: build"
  mkdir -p "$root"
  configure_and_build "$root/host"
  echo "== host: run"
  "$root/host/kernel_tests"
}

have_cross_tools() {
  local missing=""
  command -v aarch64-linux-gnu-g++ > /dev/null || missing="$missing aarch64-linux-gnu-g++"
  command -v qemu-aarch64 > /dev/null || missing="$missing qemu-aarch64"
  if [ -n "$missing" ]; then
    echo "SKIP aarch64: missing$missing (apt-get install g++-aarch64-linux-gnu qemu-user)"
    return 1
  fi
}

run_aarch64() {
  have_cross_tools || return 77
  echo "== aarch64: cross build"
  mkdir -p "$root"
  configure_and_build "$root/aarch64" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake -DXINRT_TESTS_STATIC=ON
  local bin="$root/aarch64/kernel_tests"
  echo "== aarch64: qemu default CPU (max)"
  qemu-aarch64 -L "$sysroot" "$bin" --expect-levels baseline,neon,neon_dot
  echo "== aarch64: qemu -cpu cortex-a76"
  qemu-aarch64 -L "$sysroot" -cpu cortex-a76 "$bin" --expect-levels baseline,neon,neon_dot
  echo "== aarch64: qemu -cpu cortex-a53 (no dot product)"
  qemu-aarch64 -L "$sysroot" -cpu cortex-a53 "$bin" --expect-levels baseline,neon
}

run_aarch64_asan() {
  have_cross_tools || return 77
  echo "== aarch64 + AddressSanitizer/UBSan: cross build"
  mkdir -p "$root"
  local san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  configure_and_build "$root/aarch64-asan" -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -DCMAKE_CXX_FLAGS="$san" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
  echo "== aarch64 + AddressSanitizer/UBSan: qemu default CPU (max)"
  ASAN_OPTIONS=detect_leaks=0 qemu-aarch64 -L "$sysroot" "$root/aarch64-asan/kernel_tests" \
    --expect-levels baseline,neon,neon_dot
}

case "$what" in
  host) run_host ;;
  aarch64) run_aarch64 ;;
  aarch64-asan) run_aarch64_asan ;;
  all) run_host && run_aarch64 && run_aarch64_asan ;;
  *) echo "usage: $0 [host|aarch64|aarch64-asan|all]" >&2; exit 2 ;;
esac
