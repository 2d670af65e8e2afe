// Run-time choice of SIMD paths (never -march=native).
#pragma once

#include <string>
#include <vector>

#include "core/simd_level.h"

namespace xinrt {

bool baseline_forced();  // XINRT_CPU_BASELINE=1 in the environment
// The best level this CPU supports, capped by XINRT_CPU_BASELINE=1 (-> baseline) or
// XINRT_CPU_SIMD=<a name from simd_paths()> (read on each call; a Plan reads it once when built).
SimdLevel simd_level();
std::vector<std::string> simd_paths();  // names of the levels usable on this CPU
const char* simd_name(SimdLevel level);
// CPU features read at run time that no SimdLevel orders (e.g. "fp16" on aarch64), for reports.
std::vector<std::string> cpu_feature_names();

}  // namespace xinrt
