#!/usr/bin/env bash
# The WebGPU plugin EP on a real GPU through Vulkan: the CI tests (light ResNet-50 and a
# transformer on ["ort:webgpu", "cpu"], >= 99 % of FLOPs, ORT CPU's answers) and latency against
# raw ORT WebGPU and raw ORT CPU. Run from the repo root on a machine with a GPU driver:
#
#     tools/gpu-webgpu-check.sh            # uses .venv (pip install '.[ort,test]' onnxruntime-ep-webgpu)
#
# Vulkan loader: if `ldconfig -p | grep libvulkan` prints nothing, unpack Debian's libvulkan1
# (a .deb in .gl/, e.g. fetched with `apt-get download libvulkan1`) and it is used. NVIDIA's
# container driver keeps its ICD outside the usual folders: it is pointed at when found.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

if ! ldconfig -p | grep -q libvulkan.so.1; then
    if compgen -G ".gl/*.deb" > /dev/null; then
        for f in .gl/*.deb; do dpkg -x "$f" /; done
        ldconfig
    else
        echo "no Vulkan loader (libvulkan.so.1): apt install libvulkan1, or put its .deb in .gl/" >&2
        exit 2
    fi
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
    export VK_DRIVER_FILES="$nvidia_icd"
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || true
ls /sys/class/drm 2>/dev/null | head -5 || true

# A real GPU, not lavapipe: no software adapter, and the tests must not skip.
unset ORT_WEBGPU_EP_ALLOW_SOFTWARE_ADAPTER
export XINRT_REQUIRE_WEBGPU=1
"$PYTHON" -m xinrt.cli backend doctor ort:webgpu
"$PYTHON" -m xinrt.cli backends | grep '^ort'
"$PYTHON" -m pytest -q -p no:cacheprovider tests/backends/ort/test_plugin_eps.py -k webgpu
"$PYTHON" bench/ort_webgpu_latency.py --runs "${RUNS:-20}"
