// AVX2 helpers shared by the element-wise kernels: exp (Cephes-style polynomial, ~1 ulp over the float
// range), and sum / dot / max reductions (which the compiler will not vectorise without fast-math).
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace llmlab {

inline __m256 exp256(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
  x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  // n = round(x / ln 2); r = x - n·ln 2 (ln 2 split in two for accuracy)
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.f)));
  // 2^n, built in the exponent field; n ∈ [-127, 128] after the clamp, so split it in two halves.
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
  __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

inline float vsum(const float* x, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_add_ps(a0, _mm256_loadu_ps(x + i));
    a1 = _mm256_add_ps(a1, _mm256_loadu_ps(x + i + 8));
  }
  float s = hsum256(_mm256_add_ps(a0, a1));
  for (; i < n; i++) s += x[i];
  return s;
}

inline float vdot(const float* a, const float* b, int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), a0);
    a1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), a1);
  }
  float s = hsum256(_mm256_add_ps(a0, a1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// Largest element; NaN anywhere makes the result NaN (so a diverged row shows up as a NaN loss).
inline float vmax(const float* x, int64_t n) {
  float m = -INFINITY;
  bool nan = false;
  int64_t i = 0;
  if (n >= 8) {
    __m256 vm = _mm256_set1_ps(-INFINITY), vn = _mm256_setzero_ps();
    for (; i + 8 <= n; i += 8) {
      const __m256 v = _mm256_loadu_ps(x + i);
      vm = _mm256_max_ps(vm, v);
      vn = _mm256_or_ps(vn, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    }
    alignas(32) float t[8];
    _mm256_store_ps(t, vm);
    for (float v : t) m = v > m ? v : m;
    nan = _mm256_movemask_ps(vn) != 0;
  }
  for (; i < n; i++) {
    if (x[i] != x[i]) nan = true;
    m = x[i] > m ? x[i] : m;
  }
  return nan ? NAN : m;
}

// Σ exp(x[i] - shift); when `out` is given also writes exp(x[i] - shift)·scale there.
inline float vexpSum(const float* x, int64_t n, float shift, float* out = nullptr, float scale = 1.f) {
  const __m256 vs = _mm256_set1_ps(shift), vc = _mm256_set1_ps(scale);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vs));
    acc = _mm256_add_ps(acc, e);
    if (out) _mm256_storeu_ps(out + i, _mm256_mul_ps(e, vc));
  }
  float s = hsum256(acc);
  for (; i < n; i++) {
    const float e = std::exp(x[i] - shift);
    s += e;
    if (out) out[i] = e * scale;
  }
  return s;
}

// y += a·x (y and x do not overlap).
inline void vaxpy(float* __restrict y, float a, const float* __restrict x, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

}  // namespace llmlab
