// Eight floats at a time, on whatever vector unit the build targets: one AVX2 register on x86-64 (the
// baseline build, -mavx2 -mfma), two NEON registers on arm64, or plain arrays the compiler may vectorise
// elsewhere. Every kernel is written once against these few operations; each maps to one or two
// instructions, so the AVX2 build compiles to the same code as hand-written intrinsics.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(LLMLAB_FORCE_PORTABLE)  // tests build the plain version on any machine
#define LLMLAB_SIMD_PORTABLE 1
#elif defined(__AVX2__) && defined(__FMA__)
#define LLMLAB_SIMD_AVX2 1
#include <immintrin.h>
#elif defined(__aarch64__)
#define LLMLAB_SIMD_NEON 1
#include <arm_neon.h>
#else
#define LLMLAB_SIMD_PORTABLE 1
#endif

namespace llmlab {

#if defined(LLMLAB_SIMD_AVX2)

struct V8 {
  __m256 v;
};
inline V8 vload(const float* p) { return {_mm256_loadu_ps(p)}; }
inline void vstore(float* p, V8 a) { _mm256_storeu_ps(p, a.v); }
inline V8 vset1(float x) { return {_mm256_set1_ps(x)}; }
inline V8 vzero() { return {_mm256_setzero_ps()}; }
inline V8 operator+(V8 a, V8 b) { return {_mm256_add_ps(a.v, b.v)}; }
inline V8 operator-(V8 a, V8 b) { return {_mm256_sub_ps(a.v, b.v)}; }
inline V8 operator*(V8 a, V8 b) { return {_mm256_mul_ps(a.v, b.v)}; }
inline V8 operator/(V8 a, V8 b) { return {_mm256_div_ps(a.v, b.v)}; }
// a·b + c and c − a·b, fused.
inline V8 vfma(V8 a, V8 b, V8 c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
inline V8 vfnma(V8 a, V8 b, V8 c) { return {_mm256_fnmadd_ps(a.v, b.v, c.v)}; }
inline V8 vmax(V8 a, V8 b) { return {_mm256_max_ps(a.v, b.v)}; }
inline V8 vmin(V8 a, V8 b) { return {_mm256_min_ps(a.v, b.v)}; }
inline V8 vsqrt(V8 a) { return {_mm256_sqrt_ps(a.v)}; }
inline V8 vround(V8 a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
inline float vhsum(V8 a) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(a.v), _mm256_extractf128_ps(a.v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}
inline float vhmax(V8 a) {
  alignas(32) float t[8];
  _mm256_store_ps(t, a.v);
  float m = t[0];
  for (int i = 1; i < 8; i++) m = t[i] > m ? t[i] : m;
  return m;
}
inline bool vanyNan(V8 a) { return _mm256_movemask_ps(_mm256_cmp_ps(a.v, a.v, _CMP_UNORD_Q)) != 0; }
// p·2^n for whole numbers n in [-252, 254]: 2^n is built in the exponent field in two halves (each a normal
// float) and applied one after the other, so p·2^128 stays finite when p < 1.
inline V8 vldexp(V8 p, V8 n) {
  const __m256i ni = _mm256_cvtps_epi32(n.v);
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return {_mm256_mul_ps(_mm256_mul_ps(p.v, s1), s2)};
}

#elif defined(LLMLAB_SIMD_NEON)

struct V8 {
  float32x4_t lo, hi;
};
inline V8 vload(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
inline void vstore(float* p, V8 a) {
  vst1q_f32(p, a.lo);
  vst1q_f32(p + 4, a.hi);
}
inline V8 vset1(float x) { return {vdupq_n_f32(x), vdupq_n_f32(x)}; }
inline V8 vzero() { return vset1(0.f); }
inline V8 operator+(V8 a, V8 b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
inline V8 operator-(V8 a, V8 b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
inline V8 operator*(V8 a, V8 b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
inline V8 operator/(V8 a, V8 b) { return {vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)}; }
inline V8 vfma(V8 a, V8 b, V8 c) { return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)}; }
inline V8 vfnma(V8 a, V8 b, V8 c) { return {vfmsq_f32(c.lo, a.lo, b.lo), vfmsq_f32(c.hi, a.hi, b.hi)}; }
inline V8 vmax(V8 a, V8 b) { return {vmaxq_f32(a.lo, b.lo), vmaxq_f32(a.hi, b.hi)}; }
inline V8 vmin(V8 a, V8 b) { return {vminq_f32(a.lo, b.lo), vminq_f32(a.hi, b.hi)}; }
inline V8 vsqrt(V8 a) { return {vsqrtq_f32(a.lo), vsqrtq_f32(a.hi)}; }
inline V8 vround(V8 a) { return {vrndnq_f32(a.lo), vrndnq_f32(a.hi)}; }
inline float vhsum(V8 a) { return vaddvq_f32(vaddq_f32(a.lo, a.hi)); }
inline float vhmax(V8 a) { return vmaxvq_f32(vmaxq_f32(a.lo, a.hi)); }
inline bool vanyNan(V8 a) {
  return vminvq_u32(vandq_u32(vceqq_f32(a.lo, a.lo), vceqq_f32(a.hi, a.hi))) == 0;
}
inline float32x4_t ldexp4(float32x4_t p, float32x4_t n) {
  const int32x4_t ni = vcvtnq_s32_f32(n);
  const int32x4_t n1 = vshrq_n_s32(ni, 1), n2 = vsubq_s32(ni, n1);
  const int32x4_t bias = vdupq_n_s32(127);
  const float32x4_t s1 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n1, bias), 23));
  const float32x4_t s2 = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(n2, bias), 23));
  return vmulq_f32(vmulq_f32(p, s1), s2);
}
inline V8 vldexp(V8 p, V8 n) { return {ldexp4(p.lo, n.lo), ldexp4(p.hi, n.hi)}; }

#else

struct V8 {
  float f[8];
};
inline V8 vload(const float* p) {
  V8 r;
  std::memcpy(r.f, p, sizeof r.f);
  return r;
}
inline void vstore(float* p, V8 a) { std::memcpy(p, a.f, sizeof a.f); }
inline V8 vset1(float x) { return {{x, x, x, x, x, x, x, x}}; }
inline V8 vzero() { return vset1(0.f); }
#define LLMLAB_LANES(expr) \
  V8 r;                    \
  for (int i = 0; i < 8; i++) r.f[i] = (expr); \
  return r
inline V8 operator+(V8 a, V8 b) { LLMLAB_LANES(a.f[i] + b.f[i]); }
inline V8 operator-(V8 a, V8 b) { LLMLAB_LANES(a.f[i] - b.f[i]); }
inline V8 operator*(V8 a, V8 b) { LLMLAB_LANES(a.f[i] * b.f[i]); }
inline V8 operator/(V8 a, V8 b) { LLMLAB_LANES(a.f[i] / b.f[i]); }
inline V8 vfma(V8 a, V8 b, V8 c) { LLMLAB_LANES(std::fma(a.f[i], b.f[i], c.f[i])); }
inline V8 vfnma(V8 a, V8 b, V8 c) { LLMLAB_LANES(std::fma(-a.f[i], b.f[i], c.f[i])); }
inline V8 vmax(V8 a, V8 b) { LLMLAB_LANES(a.f[i] > b.f[i] ? a.f[i] : b.f[i]); }
inline V8 vmin(V8 a, V8 b) { LLMLAB_LANES(a.f[i] < b.f[i] ? a.f[i] : b.f[i]); }
inline V8 vsqrt(V8 a) { LLMLAB_LANES(std::sqrt(a.f[i])); }
inline V8 vround(V8 a) { LLMLAB_LANES(std::nearbyint(a.f[i])); }
inline V8 vldexp(V8 p, V8 n) { LLMLAB_LANES(std::ldexp(p.f[i], int(n.f[i]))); }
#undef LLMLAB_LANES
inline float vhsum(V8 a) {
  float s = 0;
  for (float x : a.f) s += x;
  return s;
}
inline float vhmax(V8 a) {
  float m = a.f[0];
  for (float x : a.f) m = x > m ? x : m;
  return m;
}
inline bool vanyNan(V8 a) {
  for (float x : a.f)
    if (x != x) return true;
  return false;
}

#endif

// e^x, Cephes-style: x = n·ln2 + r, e^r by a degree-6 polynomial, 2^n in the exponent field (~1 ulp).
inline V8 vexp(V8 x) {
  x = vmax(vmin(x, vset1(88.3762626647949f)), vset1(-88.3762626647949f));
  const V8 n = vround(x * vset1(1.44269504088896341f));
  V8 r = vfnma(n, vset1(0.693359375f), x);  // ln 2 split in two for accuracy
  r = vfnma(n, vset1(-2.12194440e-4f), r);
  V8 p = vset1(1.9875691500e-4f);
  p = vfma(p, r, vset1(1.3981999507e-3f));
  p = vfma(p, r, vset1(8.3334519073e-3f));
  p = vfma(p, r, vset1(4.1665795894e-2f));
  p = vfma(p, r, vset1(1.6666665459e-1f));
  p = vfma(p, r, vset1(5.0000001201e-1f));
  p = vfma(p, r * r, r + vset1(1.f));
  return vldexp(p, n);
}

}  // namespace llmlab
