// Seeded normal samples for initial weights: the same ziggurat as LLM Lab's JavaScript Rng.fillNormal
// (src/core/rng.ts), step for step, so both give bit-identical weights. Every operation is a correctly rounded
// IEEE double operation in the same order as the JavaScript, and the exponential and logarithm of the rare
// slow paths are computed from + − × ÷ alone, as rng.ts computes them (the C library's and V8's exp/log may
// differ in the last bit). Fused multiply-adds would change roundings, so they are switched off here.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include <cmath>

#include "kernels.h"

namespace llmlab {
namespace {

constexpr double kInvLn2 = 1.4426950408889634;
constexpr double kLn2Hi = 0.6931471803691238;
constexpr double kLn2Lo = 1.9082149292705877e-10;
constexpr double kSqrt2 = 1.4142135623730951;
constexpr double kZigR = 3.442619855899;
constexpr double kTwo32 = 4294967296.0;

// e^y for y ≤ 0: y = k·ln2 + r, |r| ≤ ln2/2, Taylor series to r^12, then halved -k times.
double portableExp(double y) {
  const double k = std::floor(y * kInvLn2 + 0.5);
  const double r = (y - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 479001600.0;
  const double inv[11] = {1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0, 1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0,
                          1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 1.0 / 2.0, 1.0};
  for (double c : inv) p = p * r + c;
  p = p * r + 1.0;
  double scale = 1.0;
  for (double i = 0; i < -k; i++) scale *= 0.5;
  return p * scale;
}

// ln u for 0 < u ≤ 1: u = 2^e·m with m in (√½, √2], ln m = 2·atanh(s), s = (m−1)/(m+1), series to s^23.
double portableLog(double u) {
  double e = 0, m = u;
  while (m < 1.0) {
    m *= 2.0;
    e -= 1.0;
  }
  if (m > kSqrt2) {
    m *= 0.5;
    e += 1.0;
  }
  const double s = (m - 1.0) / (m + 1.0);
  const double s2 = s * s;
  double p = 1.0 / 23.0;
  const double inv[11] = {1.0 / 21.0, 1.0 / 19.0, 1.0 / 17.0, 1.0 / 15.0, 1.0 / 13.0, 1.0 / 11.0,
                          1.0 / 9.0,  1.0 / 7.0,  1.0 / 5.0,  1.0 / 3.0,  1.0};
  for (double c : inv) p = p * s2 + c;
  return e * kLn2Hi + (e * kLn2Lo + 2.0 * s * p);
}

inline uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

}  // namespace

void fillNormal(uint32_t* state, float* out, int64_t n, double stddev, const double* k, const double* w,
                const double* f) {
  uint32_t s0 = state[0], s1 = state[1], s2 = state[2], s3 = state[3];
  auto draw = [&]() -> uint32_t {
    const uint32_t r = rotl(s1 * 5u, 7) * 9u;
    const uint32_t t = s1 << 9;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11);
    return r;
  };
  auto uniform = [&]() -> double { return (static_cast<double>(draw()) + 0.5) / kTwo32; };
  for (int64_t i = 0; i < n; i++) {
    for (;;) {
      const uint32_t r = draw();
      const uint32_t layer = r & 127u;
      const double sign = (r & 128u) ? -1.0 : 1.0;
      const uint32_t m = r >> 8;
      const double x = static_cast<double>(m) * w[layer];
      if (static_cast<double>(m) < k[layer]) {
        out[i] = static_cast<float>(sign * x * stddev);
        break;
      }
      if (layer == 0) {
        double tx, ty;
        do {
          tx = -portableLog(uniform()) / kZigR;
          ty = -portableLog(uniform());
        } while (ty + ty < tx * tx);
        out[i] = static_cast<float>(sign * (kZigR + tx) * stddev);
        break;
      }
      if (f[layer] + uniform() * (f[layer - 1] - f[layer]) < portableExp(-0.5 * x * x)) {
        out[i] = static_cast<float>(sign * x * stddev);
        break;
      }
    }
  }
  state[0] = s0;
  state[1] = s1;
  state[2] = s2;
  state[3] = s3;
}

}  // namespace llmlab
