#!/usr/bin/env bash
# The whole xinrt Python package cross-built for aarch64 and run under qemu-aarch64 by Debian's
# arm64 CPython 3.11, with the aarch64 wheels of numpy/onnx/onnx-ir from PyPI: the light models
# run through InferenceSession(backends=["cpu"]) at every aarch64 SIMD level and are compared with
# backends=["reference"] (onnx.reference under the same arm64 Python). See docs/arm64-python.md.
#
#   tools/arm64-python.sh [setup|check|all] [model ...]     (default: all squeezenet shufflenet resnet50)
#
#   setup  sysroot + wheels + cross-built _native + assembled package (idempotent, cached)
#   check  setup, then tools/arm64-python/check.py under qemu-aarch64 (and the SIMD detection
#          on -cpu cortex-a53, which has no dot product)
#   all    the same as check
#
# Environment:
#   XINRT_ARM64_CACHE   cache folder (default build/arm64-python, git-ignored)
#   XINRT_ARM64_LEVELS  SIMD levels to run (default "baseline,neon,neon_dot")
#   XINRT_BUILD_JOBS    parallel compile jobs (default 2)
#   PYTHON              host Python with pip (default: python3)
#
# Needs: aarch64-linux-gnu-g++, qemu-aarch64, cmake, apt-get/dpkg (Debian/Ubuntu) with the arm64
# architecture registered (`dpkg --add-architecture arm64 && apt-get update`; packages are only
# downloaded and unpacked with `dpkg -x`, never installed), a host Python with pip, and network
# access to the Debian mirror and PyPI on the first run. Exit status: 77 when a tool or the
# arm64 architecture is missing, 78 when a download fails, 1 on a build error or a mismatch.
#
# Layout under the cache folder:
#   debs/      the arm64 .deb files (apt-get download)
#   sysroot/   those debs unpacked: the arm64 python3.11, its stdlib and shared libraries, the
#              CPython headers; qemu-aarch64 -L sysroot loads the dynamic libraries from here
#   wheels/    aarch64 wheels (pip download --platform ...)
#   site/      the wheels unpacked, plus xinrt assembled as the wheel would lay it out
#   engine/    CMake build tree of the xinrt_engine static library (toolchain file)
#   pybind11/  pybind11's headers (its wheel, unpacked)
#   native/    the pybind11 module, compiled directly with aarch64-linux-gnu-g++ (CMake's
#              FindPython wants to run the target interpreter, which a cross build cannot do)
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir="$(pwd)"

what="${1:-all}"
[ $# -gt 0 ] && shift
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(squeezenet shufflenet resnet50)
cache="${XINRT_ARM64_CACHE:-build/arm64-python}"
levels="${XINRT_ARM64_LEVELS:-baseline,neon,neon_dot}"
jobs="${XINRT_BUILD_JOBS:-2}"
host_python="${PYTHON:-python3}"
mkdir -p "$cache"
cache="$(cd "$cache" && pwd)"
sysroot="$cache/sysroot"
site="$cache/site"
pyver=3.11
qemu_cpu=""
target_python="$sysroot/usr/bin/python$pyver"

# The arm64 Debian packages: CPython 3.11 (interpreter, stdlib, headers, libpython) and the shared
# libraries that it, its extension modules and the numpy/onnx wheels link against.
DEBS=(
  python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libpython3.11 libpython3.11-dev
  libc6 libgcc-s1 libstdc++6 zlib1g libexpat1 libffi8 libssl3 libbz2-1.0 liblzma5 libsqlite3-0
  libuuid1 libncursesw6 libtinfo6 libreadline8 libdb5.3 libcrypt1
)
# xinrt's runtime dependencies (pyproject.toml); pip adds theirs (ml_dtypes, protobuf, sympy, ...).
WHEELS=(numpy onnx onnx-ir)

need_tools() {
  local missing=""
  for tool in aarch64-linux-gnu-g++ qemu-aarch64 cmake apt-get dpkg; do
    command -v "$tool" > /dev/null || missing="$missing $tool"
  done
  if [ -n "$missing" ]; then
    echo "SKIP arm64 python: missing$missing (apt-get install g++-aarch64-linux-gnu qemu-user cmake)"
    exit 77
  fi
}

fetch_sysroot() {
  local stamp="$sysroot/.xinrt-debs"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${DEBS[*]}" ]; then
    return
  fi
  echo "== arm64 sysroot: apt-get download + dpkg -x"
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "SKIP arm64 python: the arm64 architecture is not registered with dpkg, so apt cannot" \
      "see arm64 packages (as root: dpkg --add-architecture arm64 && apt-get update)"
    exit 77
  fi
  rm -rf "$cache/debs"  # one version of each package, whatever an earlier run fetched
  mkdir -p "$cache/debs"
  local pkgs=()
  for p in "${DEBS[@]}"; do pkgs+=("$p:arm64"); done
  # apt-get download writes to the current folder (when root, apt warns that it downloads
  # unsandboxed because the _apt user cannot write there: harmless). Log in debs.log.
  if ! (cd "$cache/debs" && apt-get download -q "${pkgs[@]}") > "$cache/debs.log" 2>&1; then
    cat "$cache/debs.log" >&2
    echo "DOWNLOAD FAILED: apt-get download of the arm64 packages (offline? arm64 package" \
      "lists stale? apt-get update)"
    exit 78
  fi
  rm -rf "$sysroot"
  mkdir -p "$sysroot"
  for deb in "$cache"/debs/*_arm64.deb; do dpkg -x "$deb" "$sysroot"; done
  [ -x "$target_python" ] || { echo "ERROR: $target_python missing after unpacking" >&2; exit 1; }
  echo "${DEBS[*]}" > "$stamp"
}

fetch_wheels() {
  local stamp="$site/.xinrt-wheels"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${WHEELS[*]}" ]; then
    return
  fi
  echo "== aarch64 wheels: pip download"
  rm -rf "$cache/wheels"
  "$host_python" -m pip download -q -d "$cache/wheels" --only-binary=:all: \
    --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 \
    --platform manylinux_2_28_aarch64 --python-version "$pyver" --implementation cp \
    --abi "cp${pyver/./}" --abi abi3 --abi none "${WHEELS[@]}" ||
    { echo "DOWNLOAD FAILED: pip download of the aarch64 wheels (offline?)"; exit 78; }
  rm -rf "$site"
  mkdir -p "$site"
  for whl in "$cache"/wheels/*.whl; do
    "$host_python" -m zipfile -e "$whl" "$site"
  done
  echo "${WHEELS[*]}" > "$stamp"
}

fetch_pybind11() {  # pybind11's headers from its (platform-independent) wheel: the host venv
  # need not have pybind11 installed (pip builds xinrt in an isolated environment).
  [ -f "$cache/pybind11/pybind11/include/pybind11/pybind11.h" ] && return
  echo "== pybind11 headers: pip download"
  rm -rf "$cache/pybind11" "$cache/pybind11-wheel"
  "$host_python" -m pip download -q --no-deps --only-binary=:all: -d "$cache/pybind11-wheel" \
    "pybind11>=2.12" || { echo "DOWNLOAD FAILED: pip download pybind11 (offline?)"; exit 78; }
  "$host_python" -m zipfile -e "$cache"/pybind11-wheel/pybind11-*.whl "$cache/pybind11"
}

build_native() {
  local suffix=".cpython-${pyver/./}-aarch64-linux-gnu.so"
  local so="$cache/native/_native$suffix"
  echo "== _native for aarch64: engine via CMake (cmake/aarch64-linux-gnu.cmake), module via g++"
  # The engine (every kernel, with the per-file -march flags) through the project's CMake and the
  # ARM engineer's toolchain file; XINRT_BUILD_PYTHON stays off so FindPython is not involved.
  cmake -S . -B "$cache/engine" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE="$root_dir/cmake/aarch64-linux-gnu.cmake" > "$cache/engine.configure.log" 2>&1 ||
    { cat "$cache/engine.configure.log"; return 1; }
  cmake --build "$cache/engine" -j "$jobs" --target xinrt_engine
  local engine="$cache/engine/libxinrt_engine.a"
  mkdir -p "$cache/native"
  # The module: what pybind11_add_module would compile, spelled out (bindings.cc + a build id).
  if [ ! -f "$so" ] || [ "$engine" -nt "$so" ] || [ csrc/bindings.cc -nt "$so" ] ||
     [ -n "$(find csrc/core -name '*.h' -newer "$so" -print -quit)" ]; then
    local pybind_inc="$cache/pybind11/pybind11/include"
    local version
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' pyproject.toml | head -1)"
    cmake -DOUT="$cache/native/build_id.cc" -P csrc/build_id.cmake
    echo "   aarch64-linux-gnu-g++ bindings.cc -> $(basename "$so")"
    aarch64-linux-gnu-g++ -std=c++17 -O3 -fPIC -shared -fvisibility=hidden -fno-math-errno \
      -Wno-deprecated-declarations \
      -DXINRT_HAVE_X86=0 -DXINRT_HAVE_NEON=1 "-DXINRT_VERSION=\"$version\"" \
      -I csrc -isystem "$pybind_inc" -isystem "$sysroot/usr/include/python$pyver" \
      -isystem "$sysroot/usr/include" \
      csrc/bindings.cc "$cache/native/build_id.cc" "$engine" -pthread -o "$so.tmp"
    aarch64-linux-gnu-strip --strip-unneeded "$so.tmp"
    mv "$so.tmp" "$so"
  fi
}

assemble_package() {
  echo "== xinrt package in $site (runtime/ -> xinrt/, backends/ -> xinrt/backends/)"
  rm -rf "$site/xinrt" "$site"/xinrt-*.dist-info
  cp -r runtime "$site/xinrt"
  cp -r backends "$site/xinrt/backends"
  find "$site/xinrt" -name __pycache__ -prune -exec rm -rf {} +
  cp "$cache"/native/_native.cpython-*-aarch64-linux-gnu.so "$site/xinrt/"
  # METADATA and entry_points.txt (backend discovery uses importlib.metadata), written from
  # pyproject.toml by the arm64 Python itself (tomllib).
  run_target tools/arm64-python/dist_info.py pyproject.toml "$site"
}

run_target() {  # script args...: the arm64 python under qemu-aarch64 with the site folder
  # (qemu_cpu: a qemu -cpu model; empty for qemu's default, "max")
  env -u XINRT_CPU_SIMD -u XINRT_CPU_BASELINE -u PYTHONHOME PYTHONPATH="$site" \
    PYTHONNOUSERSITE=1 QEMU_LD_PREFIX="$sysroot" \
    qemu-aarch64 ${qemu_cpu:+-cpu "$qemu_cpu"} -L "$sysroot" "$target_python" "$@"
}

setup() {
  need_tools
  fetch_sysroot
  fetch_wheels
  fetch_pybind11
  build_native
  assemble_package
}

check() {
  setup
  echo "== qemu-aarch64 (default CPU: max, with dotprod): ${models[*]} at levels $levels"
  run_target tools/arm64-python/check.py --levels "$levels" --expect-simd baseline,neon,neon_dot \
    "${models[@]}"
  echo "== qemu-aarch64 -cpu cortex-a53 (ARMv8.0, no dotprod): SIMD detection only"
  qemu_cpu=cortex-a53 run_target tools/arm64-python/check.py --expect-simd baseline,neon
}

case "$what" in
  setup) setup ;;
  check | all) check ;;
  *) echo "usage: $0 [setup|check|all] [model ...]" >&2; exit 2 ;;
esac
