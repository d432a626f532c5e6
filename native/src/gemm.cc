// Blocked, packed SGEMM (see gemm.h). Loop nest after the BLIS/GotoBLAS layout: N blocks of NC columns,
// K blocks of KC, M blocks of MC rows; A and B are copied into contiguous micro-panels (zero-padded at the
// edges) so the 6×16 FMA micro-kernel reads them at unit stride. Threads each take a rectangle of C.
#include "gemm.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <vector>

#include "threadPool.h"
#include "simd.h"
#include "vecMath.h"

namespace llmlab {
namespace {

constexpr int MR = 6, NR = 16;
constexpr int64_t MC = 144, KC = 256, NC = 3072;

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

float* scratch(std::unique_ptr<float, AlignedFree>& buf, size_t& cap, size_t n) {
  if (cap < n) {
    buf.reset(static_cast<float*>(std::aligned_alloc(64, ((n * sizeof(float) + 63) / 64) * 64)));
    cap = buf ? n : 0;
    if (!buf) throw std::bad_alloc();
  }
  return buf.get();
}

// Packs rows [0, mc) × depth [0, kc) of A into panels of MR rows: panel r holds A(r*MR+i, p) at [p*MR + i].
void packA(const GemmArgs& g, int64_t i0, int64_t p0, int64_t mc, int64_t kc, float* dst) {
  for (int64_t r = 0; r < mc; r += MR) {
    const int64_t rows = std::min<int64_t>(MR, mc - r);
    float* d = dst + r * kc;
    const float* src = g.a + (i0 + r) * g.aRow + p0 * g.aCol;
    if (g.aCol == 1) {
      for (int64_t i = 0; i < rows; i++) {
        const float* s = src + i * g.aRow;
        for (int64_t p = 0; p < kc; p++) d[p * MR + i] = g.alpha * s[p];
      }
    } else {
      for (int64_t p = 0; p < kc; p++) {
        const float* s = src + p * g.aCol;
        for (int64_t i = 0; i < rows; i++) d[p * MR + i] = g.alpha * s[i * g.aRow];
      }
    }
    if (rows < MR) {
      for (int64_t p = 0; p < kc; p++)
        for (int64_t i = rows; i < MR; i++) d[p * MR + i] = 0.f;
    }
  }
}

// Packs depth [0, kc) × columns [0, nc) of B into panels of NR columns: B(p, c*NR+j) at [c*NR*kc + p*NR + j].
void packB(const GemmArgs& g, int64_t p0, int64_t j0, int64_t kc, int64_t nc, float* dst) {
  for (int64_t c = 0; c < nc; c += NR) {
    const int64_t cols = std::min<int64_t>(NR, nc - c);
    float* d = dst + c * kc;
    const float* src = g.b + p0 * g.bRow + (j0 + c) * g.bCol;
    if (g.bCol == 1) {
      if (cols == NR) {
        for (int64_t p = 0; p < kc; p++) std::memcpy(d + p * NR, src + p * g.bRow, NR * sizeof(float));
      } else {
        for (int64_t p = 0; p < kc; p++) {
          for (int64_t j = 0; j < cols; j++) d[p * NR + j] = src[p * g.bRow + j];
          for (int64_t j = cols; j < NR; j++) d[p * NR + j] = 0.f;
        }
      }
    } else {
      for (int64_t j = 0; j < cols; j++) {
        const float* s = src + j * g.bCol;
        for (int64_t p = 0; p < kc; p++) d[p * NR + j] = s[p * g.bRow];
      }
      for (int64_t j = cols; j < NR; j++)
        for (int64_t p = 0; p < kc; p++) d[p * NR + j] = 0.f;
    }
  }
}

// acc(6×16) = Apanel·Bpanel over kc; then C = acc (+ beta·C on the first K block, + C after it) (+ bias).
// Twelve 8-float accumulators: 12 AVX2 registers, or 24 of NEON's 32.
void microKernel(int64_t kc, const float* A, const float* B, float* C, int64_t ldc, int64_t mr, int64_t nr,
                 bool first, float beta, const float* bias) {
  V8 c00 = vzero(), c01 = vzero(), c10 = vzero(), c11 = vzero(), c20 = vzero(), c21 = vzero(), c30 = vzero(),
     c31 = vzero(), c40 = vzero(), c41 = vzero(), c50 = vzero(), c51 = vzero();
  for (int64_t p = 0; p < kc; p++) {
    const V8 b0 = vload(B), b1 = vload(B + 8);
    V8 a = vset1(A[0]);
    c00 = vfma(a, b0, c00);
    c01 = vfma(a, b1, c01);
    a = vset1(A[1]);
    c10 = vfma(a, b0, c10);
    c11 = vfma(a, b1, c11);
    a = vset1(A[2]);
    c20 = vfma(a, b0, c20);
    c21 = vfma(a, b1, c21);
    a = vset1(A[3]);
    c30 = vfma(a, b0, c30);
    c31 = vfma(a, b1, c31);
    a = vset1(A[4]);
    c40 = vfma(a, b0, c40);
    c41 = vfma(a, b1, c41);
    a = vset1(A[5]);
    c50 = vfma(a, b0, c50);
    c51 = vfma(a, b1, c51);
    A += MR;
    B += NR;
  }
  alignas(32) float acc[MR * NR];
  vstore(acc + 0, c00);
  vstore(acc + 8, c01);
  vstore(acc + 16, c10);
  vstore(acc + 24, c11);
  vstore(acc + 32, c20);
  vstore(acc + 40, c21);
  vstore(acc + 48, c30);
  vstore(acc + 56, c31);
  vstore(acc + 64, c40);
  vstore(acc + 72, c41);
  vstore(acc + 80, c50);
  vstore(acc + 88, c51);
  for (int64_t i = 0; i < mr; i++) {
    float* crow = C + i * ldc;
    const float* arow = acc + i * NR;
    if (!first) {
      for (int64_t j = 0; j < nr; j++) crow[j] += arow[j];
    } else if (beta == 0.f) {
      if (bias) {
        for (int64_t j = 0; j < nr; j++) crow[j] = arow[j] + bias[j];
      } else {
        for (int64_t j = 0; j < nr; j++) crow[j] = arow[j];
      }
    } else {
      for (int64_t j = 0; j < nr; j++) crow[j] = beta * crow[j] + arow[j] + (bias ? bias[j] : 0.f);
    }
  }
}

// One thread's GEMM over rows [i0, i1) and columns [j0, j1) of C.
void gemmTile(const GemmArgs& g, int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
  thread_local std::unique_ptr<float, AlignedFree> bufA, bufB;
  thread_local size_t capA = 0, capB = 0;
  if (g.k == 0) {
    for (int64_t i = i0; i < i1; i++)
      for (int64_t j = j0; j < j1; j++) {
        float& c = g.c[i * g.ldc + j];
        c = (g.beta == 0.f ? 0.f : g.beta * c) + (g.bias ? g.bias[j] : 0.f);
      }
    return;
  }
  float* pa = scratch(bufA, capA, MC * KC);
  float* pb = scratch(bufB, capB, NC * KC);
  for (int64_t jc = j0; jc < j1; jc += NC) {
    const int64_t nc = std::min(NC, j1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      const int64_t kc = std::min(KC, g.k - pc);
      packB(g, pc, jc, kc, nc, pb);
      for (int64_t ic = i0; ic < i1; ic += MC) {
        const int64_t mc = std::min(MC, i1 - ic);
        packA(g, ic, pc, mc, kc, pa);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          for (int64_t ir = 0; ir < mc; ir += MR) {
            microKernel(kc, pa + ir * kc, pb + jr * kc, g.c + (ic + ir) * g.ldc + jc + jr, g.ldc,
                        std::min<int64_t>(MR, mc - ir), std::min<int64_t>(NR, nc - jr), pc == 0, g.beta,
                        g.bias ? g.bias + jc + jr : nullptr);
          }
        }
      }
    }
  }
}

// Few rows (a token at a time in generation): no packing, each thread takes a range of columns and streams
// B once, by dot products when B's columns are contiguous along K, otherwise by row updates.
void gemmFewRows(const GemmArgs& g, int threads) {
  const int64_t k = g.k;
  auto work = [&](int64_t j0, int64_t j1) {
    std::vector<float> arow(std::max<int64_t>(k, 1)), acc(j1 - j0);
    for (int64_t i = 0; i < g.m; i++) {
      for (int64_t p = 0; p < k; p++) arow[p] = g.alpha * g.a[i * g.aRow + p * g.aCol];
      if (g.bRow == 1) {
        for (int64_t j = j0; j < j1; j++) acc[j - j0] = vdot(arow.data(), g.b + j * g.bCol, k);
      } else {
        std::fill(acc.begin(), acc.end(), 0.f);
        for (int64_t p = 0; p < k; p++) {
          const float av = arow[p];
          const float* brow = g.b + p * g.bRow;
          float* out = acc.data();
          if (g.bCol == 1) {
            for (int64_t j = j0; j < j1; j++) out[j - j0] += av * brow[j];
          } else {
            for (int64_t j = j0; j < j1; j++) out[j - j0] += av * brow[j * g.bCol];
          }
        }
      }
      float* crow = g.c + i * g.ldc;
      for (int64_t j = j0; j < j1; j++) {
        const float prev = g.beta == 0.f ? 0.f : g.beta * crow[j];
        crow[j] = prev + acc[j - j0] + (g.bias ? g.bias[j] : 0.f);
      }
    }
  };
  if (threads <= 1 || g.n * std::max<int64_t>(k, 1) < (1 << 16)) {
    work(0, g.n);
    return;
  }
  pool().run(threads, [&](int t, int nt) {
    const int64_t j0 = g.n * t / nt / 16 * 16, j1 = t + 1 == nt ? g.n : g.n * (t + 1) / nt / 16 * 16;
    if (j0 < j1) work(j0, j1);
  });
}

}  // namespace

void gemm(const GemmArgs& g, int threads) {
  if (g.m <= 0 || g.n <= 0) return;
  if (g.m <= 3 && g.k > 0) {
    gemmFewRows(g, std::min<int>(threads, poolThreads()));
    return;
  }
  const double flops = 2.0 * g.m * g.n * std::max<int64_t>(g.k, 1);
  int t = std::min<int>(threads, poolThreads());
  if (flops < 2e5) t = 1;
  // Split C into tm × tn rectangles: rows in multiples of MR, columns in multiples of NR.
  if (t <= 1) {
    gemmTile(g, 0, g.m, 0, g.n);
    return;
  }
  // Cut C along its longer side (so the operand every tile re-packs is the smaller one) into up to 2 tiles
  // per thread, each at least 256 wide, and let threads take them as they come: on a busy machine a
  // descheduled thread no longer holds the others up.
  const bool alongN = g.n >= g.m;
  const int64_t unit = alongN ? NR : MR;
  const int64_t extent = alongN ? g.n : g.m;
  const int64_t units = (extent + unit - 1) / unit;
  const int64_t minUnits = std::max<int64_t>(1, 256 / unit);
  const int64_t tiles = std::max<int64_t>(std::min<int64_t>(t, units), std::min<int64_t>(int64_t(t) * 2, units / minUnits));
  if (tiles == 1) {
    gemmTile(g, 0, g.m, 0, g.n);
    return;
  }
  std::atomic<int64_t> next{0};
  pool().run(t, [&](int, int) {
    for (int64_t i; (i = next.fetch_add(1)) < tiles;) {
      const int64_t lo = std::min(extent, units * i / tiles * unit), hi = std::min(extent, units * (i + 1) / tiles * unit);
      if (lo >= hi) continue;
      if (alongN) gemmTile(g, 0, g.m, lo, hi);
      else gemmTile(g, lo, hi, 0, g.n);
    }
  });
}

void gemmBatched(const GemmArgs& g, int64_t batch, int64_t strideA, int64_t strideB, int64_t strideC,
                 int64_t strideBias) {
  if (batch <= 0) return;
  const double flops = 2.0 * g.m * g.n * std::max<int64_t>(g.k, 1);
  const int threads = poolThreads();
  auto one = [&](int64_t i, int t) {
    GemmArgs h = g;
    h.a = g.a + i * strideA;
    h.b = g.b + i * strideB;
    h.c = g.c + i * strideC;
    if (g.bias) h.bias = g.bias + i * strideBias;
    gemm(h, t);
  };
  if (batch >= threads && flops < 4e7) {
    parallelFor(batch, 1, [&](int64_t b0, int64_t b1) {
      for (int64_t i = b0; i < b1; i++) one(i, 1);
    });
  } else {
    for (int64_t i = 0; i < batch; i++) one(i, threads);
  }
}

}  // namespace llmlab
