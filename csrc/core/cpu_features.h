// Run-time choice of SIMD paths (never -march=native).
#pragma once

#include <string>
#include <vector>

namespace xinrt {

// Ordered: a level may use every kernel of the levels below it.
enum SimdLevel : int { kSimdBaseline = 0, kSimdAvx2Fma = 1, kSimdAvx512 = 2 };

bool baseline_forced();  // XINRT_CPU_BASELINE=1 in the environment
// The best level this CPU supports, capped by XINRT_CPU_BASELINE=1 (-> baseline) or
// XINRT_CPU_SIMD=baseline|avx2_fma|avx512 (read on each call; a Plan reads it once when built).
SimdLevel simd_level();
std::vector<std::string> simd_paths();  // names of the levels usable on this CPU
const char* simd_name(SimdLevel level);

}  // namespace xinrt
