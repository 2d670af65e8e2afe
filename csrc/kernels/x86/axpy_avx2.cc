// AVX2/FMA y[i] += a * x[i] (plain: raw pointers only). Called only after a CPU check.
#include <immintrin.h>

#include <cstdint>

namespace xinrt {

void axpy_f32_avx2(float* y, const float* x, float a, int64_t n) {
  __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    _mm256_storeu_ps(y + i + 8, _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), va, _mm256_loadu_ps(y + i + 8)));
  }
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += x[i] * a;
}

}  // namespace xinrt
