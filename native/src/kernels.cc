// Row-wise and element-wise kernels: LayerNorm, GELU, dropout, cross-entropy, embedding, column sums, AdamW.
#include "kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "threadPool.h"
#include "vecMath.h"

namespace llmlab {

void layerNormForward(const float* x, const float* gamma, const float* beta, int64_t n, int64_t c, float eps,
                      float* y, float* mean, float* rstd) {
  parallelFor(n, std::max<int64_t>(1, 4096 / std::max<int64_t>(c, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * c;
      float* yr = y + r * c;
      const float mu = vsum(xr, c) / c;
      double var = 0;
      for (int64_t j = 0; j < c; j++) var += double(xr[j] - mu) * (xr[j] - mu);
      const float rs = 1.f / std::sqrt(float(var / c) + eps);
      for (int64_t j = 0; j < c; j++) yr[j] = (xr[j] - mu) * rs * gamma[j] + beta[j];
      mean[r] = mu;
      rstd[r] = rs;
    }
  });
}

void layerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       int64_t n, int64_t c, float* dx, float* dgamma, float* dbeta) {
  const int threads = poolThreads();
  std::vector<float> partial(size_t(threads) * 2 * c, 0.f);
  pool().run(threads, [&](int t, int nt) {
    const int64_t r0 = n * t / nt, r1 = n * (t + 1) / nt;
    float* pg = partial.data() + size_t(t) * 2 * c;
    float* pb = pg + c;
    std::vector<float> xhat(c), g(c);
    for (int64_t r = r0; r < r1; r++) {
      const float* xr = x + r * c;
      const float* dyr = dy + r * c;
      for (int64_t j = 0; j < c; j++) {
        xhat[j] = (xr[j] - mean[r]) * rstd[r];
        g[j] = dyr[j] * gamma[j];
        pg[j] += dyr[j] * xhat[j];
        pb[j] += dyr[j];
      }
      const float meanG = vsum(g.data(), c) / c, meanGX = vdot(g.data(), xhat.data(), c) / c;
      float* dxr = dx + r * c;
      for (int64_t j = 0; j < c; j++) dxr[j] = rstd[r] * (g[j] - meanG - xhat[j] * meanGX);
    }
  });
  for (int64_t j = 0; j < c; j++) {
    float sg = 0, sb = 0;
    for (int t = 0; t < threads; t++) {
      sg += partial[size_t(t) * 2 * c + j];
      sb += partial[size_t(t) * 2 * c + c + j];
    }
    dgamma[j] = sg;
    dbeta[j] = sb;
  }
}

namespace {
const float kGeluA = 0.7978845608028654f;  // √(2/π)
const float kGeluB = 0.044715f;

// tanh(u) = 1 − 2/(e^{2u} + 1), 8 lanes.
inline V8 vtanh(V8 u) {
  const V8 one = vset1(1.f), two = vset1(2.f);
  return one - two / (vexp(two * u) + one);
}
inline V8 geluInner(V8 x) { return vset1(kGeluA) * vfma(vset1(kGeluB), x * x * x, x); }
}  // namespace

void geluForward(const float* x, float* y, int64_t n) {
  parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    const V8 half = vset1(0.5f), one = vset1(1.f);
    for (; i + 8 <= i1; i += 8) {
      const V8 xv = vload(x + i);
      vstore(y + i, half * xv * (one + vtanh(geluInner(xv))));
    }
    for (; i < i1; i++) {
      const float t = std::tanh(kGeluA * (x[i] + kGeluB * x[i] * x[i] * x[i]));
      y[i] = 0.5f * x[i] * (1.f + t);
    }
  });
}

void geluBackward(const float* x, const float* dy, float* dx, int64_t n) {
  parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    int64_t i = i0;
    const V8 half = vset1(0.5f), one = vset1(1.f), a = vset1(kGeluA), b3 = vset1(3.f * kGeluB);
    for (; i + 8 <= i1; i += 8) {
      const V8 xv = vload(x + i);
      const V8 t = vtanh(geluInner(xv));
      // d/dx = ½(1+t) + ½x(1−t²)·√(2/π)(1 + 3·0.044715x²)
      const V8 du = a * vfma(b3, xv * xv, one);
      const V8 sech2 = vfnma(t, t, one);
      const V8 grad = vfma(half * xv, sech2 * du, half * (one + t));
      vstore(dx + i, grad * vload(dy + i));
    }
    for (; i < i1; i++) {
      const float xv = x[i];
      const float t = std::tanh(kGeluA * (xv + kGeluB * xv * xv * xv));
      const float du = kGeluA * (1.f + 3.f * kGeluB * xv * xv);
      dx[i] = dy[i] * (0.5f * (1.f + t) + 0.5f * xv * (1.f - t * t) * du);
    }
  });
}

double crossEntropyForward(const float* logits, const int32_t* targets, int64_t n, int64_t v, int32_t ignore,
                           float* lse, int64_t* count) {
  const int threads = poolThreads();
  std::vector<double> sums(threads, 0.0);
  std::vector<int64_t> counts(threads, 0);
  pool().run(threads, [&](int t, int nt) {
    const int64_t r0 = n * t / nt, r1 = n * (t + 1) / nt;
    for (int64_t r = r0; r < r1; r++) {
      const float* z = logits + r * v;
      const float mx = vmax(z, v);
      const float l = mx + std::log(vexpSum(z, v, mx));
      lse[r] = l;
      const int32_t tgt = targets[r];
      if (tgt == ignore) continue;
      // As the portable op: a target outside the vocabulary has an all-zero one-hot row (adds 0, counts).
      if (tgt >= 0 && tgt < v) sums[t] += double(l) - z[tgt];
      counts[t]++;
    }
  });
  double s = 0;
  int64_t c = 0;
  for (int t = 0; t < threads; t++) s += sums[t], c += counts[t];
  *count = c;
  return s;
}

void crossEntropyBackward(const float* logits, const int32_t* targets, const float* lse, int64_t n, int64_t v,
                          int32_t ignore, float scale, float* dlogits) {
  parallelFor(n, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      float* d = dlogits + r * v;
      const int32_t tgt = targets[r];
      if (tgt == ignore || tgt < 0 || tgt >= v) {
        std::memset(d, 0, sizeof(float) * v);
        continue;
      }
      vexpSum(logits + r * v, v, lse[r], d, scale);
      d[tgt] -= scale;
    }
  });
}

int64_t embeddingForward(const int32_t* ids, int64_t n, const float* table, int64_t rows, int64_t c, float* out) {
  for (int64_t i = 0; i < n; i++)
    if (ids[i] < 0 || ids[i] >= rows) return i;
  parallelFor(n, std::max<int64_t>(1, 8192 / std::max<int64_t>(c, 1)), [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) std::memcpy(out + i * c, table + int64_t(ids[i]) * c, sizeof(float) * c);
  });
  return -1;
}

void embeddingBackward(const int32_t* ids, int64_t n, const float* dy, int64_t rows, int64_t c, float* dtable) {
  // Threads own disjoint column ranges, so scattering needs no locks.
  parallelFor(rows, 1 << 12, [&](int64_t r0, int64_t r1) {
    std::memset(dtable + r0 * c, 0, sizeof(float) * (r1 - r0) * c);
  });
  parallelFor(c, 8, [&](int64_t j0, int64_t j1) {
    for (int64_t i = 0; i < n; i++) {
      const int64_t id = ids[i];
      if (id < 0 || id >= rows) continue;
      float* dst = dtable + id * c;
      const float* src = dy + i * c;
      for (int64_t j = j0; j < j1; j++) dst[j] += src[j];
    }
  });
}

void columnSums(const float* x, int64_t n, int64_t c, float* out) {
  parallelFor(c, 64, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; j++) out[j] = 0.f;
    for (int64_t i = 0; i < n; i++) {
      const float* row = x + i * c;
      for (int64_t j = j0; j < j1; j++) out[j] += row[j];
    }
  });
}

void adamw(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
           float weightDecay, int64_t step) {
  const float bc1 = 1.f / float(1.0 - std::pow(double(beta1), double(step)));
  const float bc2 = 1.f / float(1.0 - std::pow(double(beta2), double(step)));
  const float decay = 1.f - lr * weightDecay;
  parallelFor(n, 1 << 16, [&](int64_t i0, int64_t i1) {
    const V8 b1 = vset1(beta1), c1 = vset1(1.f - beta1), b2 = vset1(beta2), c2 = vset1(1.f - beta2),
             k1 = vset1(bc1), k2 = vset1(bc2), dk = vset1(decay), vlr = vset1(lr), veps = vset1(eps);
    int64_t i = i0;
    for (; i + 8 <= i1; i += 8) {
      const V8 gv = vload(g + i);
      const V8 mi = vfma(b1, vload(m + i), c1 * gv);
      const V8 vi = vfma(b2, vload(v + i), c2 * (gv * gv));
      vstore(m + i, mi);
      vstore(v + i, vi);
      const V8 den = vsqrt(vi * k2) + veps;
      vstore(p + i, vload(p + i) * dk - (vlr * (mi * k1)) / den);
    }
    for (; i < i1; i++) {
      const float mi = beta1 * m[i] + (1.f - beta1) * g[i];
      const float vi = beta2 * v[i] + (1.f - beta2) * g[i] * g[i];
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] * decay - lr * (mi * bc1) / (std::sqrt(vi * bc2) + eps);
    }
  });
}

void dropoutApply(const float* x, float* y, int64_t n, const DropoutMask& m) {
  parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) y[i] = x[i] * dropoutFactor(m, uint64_t(i));
  });
}

}  // namespace llmlab
