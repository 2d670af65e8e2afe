#!/usr/bin/env bash
# The sanitizer job: builds the native engine once with AddressSanitizer + UBSan
# (-DXINRT_SANITIZE=ON, into its own venv and build folder), then runs against that build
#   1. the C++ kernel test harness (csrc/tests/), every SIMD level this CPU has;
#   2. the model fuzzer (tests/fuzz) in CI mode, every case in a child process with libasan
#      preloaded: an ASan/UBSan report kills the child and fails the run with its seed.
#
#   tools/asan-tests.sh [FUZZ_CASES]        (default 1000; the fuzzer's own CI job runs 2,000)
#
# Needs g++ and cmake. Build tree: build/asan (git-ignored, reused); venv: .venv-asan.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${1:-1000}"
venv="${XINRT_ASAN_VENV:-.venv-asan}"
build="build/asan"
jobs="${XINRT_BUILD_JOBS:-2}"

[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q scikit-build-core pybind11
echo "== build with AddressSanitizer + UBSan"
CMAKE_BUILD_PARALLEL_LEVEL="$jobs" "$venv/bin/pip" install -q --no-build-isolation -e '.[test]' \
  -C build-dir="$build" -C cmake.define.XINRT_SANITIZE=ON -C cmake.define.XINRT_BUILD_TESTS=ON
cmake --build "$build" --target kernel_tests -j "$jobs"

libasan="$(g++ -print-file-name=libasan.so)"
libubsan="$(g++ -print-file-name=libubsan.so)"
# Huge requests fail as bad_alloc / MemoryError (what RLIMIT_AS does without ASan); no leak
# report at exit (Python's own allocations are not freed then).
export ASAN_OPTIONS="detect_leaks=0:allocator_may_return_null=1:max_allocation_size_mb=4096:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

echo "== C++ kernel tests under ASan/UBSan"
"$build/kernel_tests"

echo "== model fuzzer under ASan/UBSan ($cases cases)"
LD_PRELOAD="$libasan:$libubsan" "$venv/bin/python" -c \
  "import xinrt._native as n; assert n.build_info()['build_id']"
LD_PRELOAD="$libasan:$libubsan" "$venv/bin/python" -m tests.fuzz.run --cases "$cases"
