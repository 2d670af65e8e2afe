// Run-time choice of SIMD paths (never -march=native).
#pragma once

#include <string>
#include <vector>

namespace xinrt {

// Ordered per architecture: a level may use every kernel of the levels below it. Kernels test
// `simd >= kSimd...` inside `#if XINRT_HAVE_X86` or `#if XINRT_HAVE_NEON`, so the same numbers
// mean different paths on x86-64 and aarch64.
enum SimdLevel : int {
  kSimdBaseline = 0,  // portable C++ (the compiler's own vectorization only)
  // x86-64
  kSimdAvx2Fma = 1,
  kSimdAvx512 = 2,      // AVX-512 F
  kSimdAvx512Vnni = 3,  // AVX-512 F/BW/VL + VNNI (int8 dot products)
  // aarch64 (HWCAP)
  kSimdNeon = 1,     // asimd
  kSimdNeonDot = 2,  // asimd + dot product (sdot/udot)
};

bool baseline_forced();  // XINRT_CPU_BASELINE=1 in the environment
// The best level this CPU supports, capped by XINRT_CPU_BASELINE=1 (-> baseline) or
// XINRT_CPU_SIMD=<a name from simd_paths()> (read on each call; a Plan reads it once when built).
SimdLevel simd_level();
std::vector<std::string> simd_paths();  // names of the levels usable on this CPU
const char* simd_name(SimdLevel level);
// CPU features read at run time that no SimdLevel orders (e.g. "fp16" on aarch64), for reports.
std::vector<std::string> cpu_feature_names();

}  // namespace xinrt
