#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

namespace xinrt {

static SimdLevel cpu_level() {
#if defined(__x86_64__) || defined(__i386__)
  // libgcc's checks include the OS's XSAVE support for the wider registers.
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return kSimdBaseline;
    if (__builtin_cpu_supports("avx512f")) return kSimdAvx512;
    return kSimdAvx2Fma;
  }();
  return level;
#else
  return kSimdBaseline;
#endif
}

const char* simd_name(SimdLevel level) {
  switch (level) {
    case kSimdAvx512: return "avx512";
    case kSimdAvx2Fma: return "avx2_fma";
    default: return "baseline";
  }
}

bool baseline_forced() {
  const char* v = std::getenv("XINRT_CPU_BASELINE");
  return v && *v && std::strcmp(v, "0") != 0;
}

SimdLevel simd_level() {
  if (baseline_forced()) return kSimdBaseline;
  SimdLevel level = cpu_level();
  if (const char* cap = std::getenv("XINRT_CPU_SIMD")) {
    for (SimdLevel l : {kSimdBaseline, kSimdAvx2Fma, kSimdAvx512})
      if (std::strcmp(cap, simd_name(l)) == 0 && l < level) level = l;
  }
  return level;
}

std::vector<std::string> simd_paths() {
  std::vector<std::string> p;
  for (int l = kSimdBaseline; l <= cpu_level(); ++l) p.push_back(simd_name(static_cast<SimdLevel>(l)));
  return p;
}

}  // namespace xinrt
