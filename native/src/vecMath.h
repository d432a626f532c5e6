// Reductions and row helpers shared by the element-wise kernels, written on simd.h's eight-float vectors:
// sum / dot / max (which the compiler will not vectorise without fast-math), Σ exp, and y += a·x.
#pragma once
#include <cmath>
#include <cstdint>

#include "simd.h"

namespace llmlab {

inline float vsum(const float* x, int64_t n) {
  V8 a0 = vzero(), a1 = vzero();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = a0 + vload(x + i);
    a1 = a1 + vload(x + i + 8);
  }
  float s = vhsum(a0 + a1);
  for (; i < n; i++) s += x[i];
  return s;
}

inline float vdot(const float* a, const float* b, int64_t n) {
  V8 a0 = vzero(), a1 = vzero();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = vfma(vload(a + i), vload(b + i), a0);
    a1 = vfma(vload(a + i + 8), vload(b + i + 8), a1);
  }
  float s = vhsum(a0 + a1);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// Largest element; NaN anywhere makes the result NaN (so a diverged row shows up as a NaN loss).
inline float vmax(const float* x, int64_t n) {
  float m = -INFINITY;
  bool nan = false;
  int64_t i = 0;
  if (n >= 8) {
    V8 vm = vset1(-INFINITY);
    for (; i + 8 <= n; i += 8) {
      const V8 v = vload(x + i);
      vm = vmax(vm, v);
      nan = nan || vanyNan(v);
    }
    m = vhmax(vm);
  }
  for (; i < n; i++) {
    if (x[i] != x[i]) nan = true;
    m = x[i] > m ? x[i] : m;
  }
  return nan ? NAN : m;
}

// Σ exp(x[i] - shift); when `out` is given also writes exp(x[i] - shift)·scale there.
inline float vexpSum(const float* x, int64_t n, float shift, float* out = nullptr, float scale = 1.f) {
  const V8 vs = vset1(shift), vc = vset1(scale);
  V8 acc = vzero();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const V8 e = vexp(vload(x + i) - vs);
    acc = acc + e;
    if (out) vstore(out + i, e * vc);
  }
  float s = vhsum(acc);
  for (; i < n; i++) {
    const float e = std::exp(x[i] - shift);
    s += e;
    if (out) out[i] = e * scale;
  }
  return s;
}

// y += a·x (y and x do not overlap).
inline void vaxpy(float* __restrict y, float a, const float* __restrict x, int64_t n) {
  const V8 va = vset1(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vstore(y + i, vfma(va, vload(x + i), vload(y + i)));
  for (; i < n; i++) y[i] += a * x[i];
}

}  // namespace llmlab
