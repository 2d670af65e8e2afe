// The SIMD levels, in a header with no includes: SIMD kernel files and the inline dispatchers in
// kernels/*.h name levels without pulling C++ library headers into AVX-compiled code.
#pragma once

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
  kSimdAvx512Bf16 = 4,  // the above + AVX512_BF16 (vdpbf16ps: bf16 pairs, fp32 sums)
  // aarch64 (HWCAP)
  kSimdNeon = 1,     // asimd
  kSimdNeonDot = 2,  // asimd + dot product (sdot/udot)
};

}  // namespace xinrt
