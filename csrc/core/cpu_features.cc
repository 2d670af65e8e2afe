#include "core/cpu_features.h"

#include <cstdlib>
#include <cstring>

#if defined(__aarch64__) && defined(__linux__)
#include <asm/hwcap.h>
#include <sys/auxv.h>
#endif

namespace xinrt {

#if defined(__x86_64__) || defined(__i386__)
static constexpr int kTopLevel = kSimdAvx512Bf16;
static const char* const kLevelNames[] = {"baseline", "avx2_fma", "avx512", "avx512_vnni", "avx512_bf16"};

static SimdLevel cpu_level() {
  // libgcc's checks include the OS's XSAVE support for the wider registers.
  static const SimdLevel level = [] {
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return kSimdBaseline;
    if (!__builtin_cpu_supports("avx512f")) return kSimdAvx2Fma;
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512vnni"))
      return __builtin_cpu_supports("avx512bf16") ? kSimdAvx512Bf16 : kSimdAvx512Vnni;
    return kSimdAvx512;
  }();
  return level;
}

std::vector<std::string> cpu_feature_names() { return {}; }

#elif defined(__aarch64__)
static constexpr int kTopLevel = kSimdNeonDot;
static const char* const kLevelNames[] = {"baseline", "neon", "neon_dot"};

#if defined(__linux__)
static unsigned long hwcap() { return getauxval(AT_HWCAP); }
#else
static unsigned long hwcap() { return 0; }
#endif

static SimdLevel cpu_level() {
  static const SimdLevel level = [] {
#if defined(__linux__)
    unsigned long caps = hwcap();
    if (!(caps & HWCAP_ASIMD)) return kSimdBaseline;
    if (caps & HWCAP_ASIMDDP) return kSimdNeonDot;
#endif
    return kSimdNeon;  // Advanced SIMD is part of every ARMv8-A profile Linux runs on
  }();
  return level;
}

std::vector<std::string> cpu_feature_names() {
  std::vector<std::string> names;
#if defined(__linux__)
  unsigned long caps = hwcap();
  if (caps & HWCAP_ASIMDHP) names.push_back("fp16");
#endif
  return names;
}

#else
static constexpr int kTopLevel = kSimdBaseline;
static const char* const kLevelNames[] = {"baseline"};
static SimdLevel cpu_level() { return kSimdBaseline; }
std::vector<std::string> cpu_feature_names() { return {}; }
#endif

const char* simd_name(SimdLevel level) {
  int l = static_cast<int>(level);
  return (l >= 0 && l <= kTopLevel) ? kLevelNames[l] : "baseline";
}

bool baseline_forced() {
  const char* v = std::getenv("XINRT_CPU_BASELINE");
  return v && *v && std::strcmp(v, "0") != 0;
}

SimdLevel simd_level() {
  if (baseline_forced()) return kSimdBaseline;
  SimdLevel level = cpu_level();
  if (const char* cap = std::getenv("XINRT_CPU_SIMD")) {
    for (int l = 0; l <= kTopLevel; ++l)
      if (std::strcmp(cap, kLevelNames[l]) == 0 && l < level) level = static_cast<SimdLevel>(l);
  }
  return level;
}

std::vector<std::string> simd_paths() {
  std::vector<std::string> p;
  for (int l = kSimdBaseline; l <= cpu_level(); ++l) p.push_back(kLevelNames[l]);
  return p;
}

}  // namespace xinrt
