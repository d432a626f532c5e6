// Single-precision GEMM for the native backend: C = alpha·op(A)·op(B) + beta·C (+ bias per column), with
// A and B given by arbitrary row/column strides (so every transpose mode is a choice of strides) and C
// row-major. Blocked and packed for 8-float vectors (6×16 micro-tiles), multi-threaded over tiles of C.
#pragma once
#include <cstdint>

namespace llmlab {

struct GemmArgs {
  int64_t m, n, k;
  const float* a;
  int64_t aRow, aCol;  // A(i, p) = a[i*aRow + p*aCol]
  const float* b;
  int64_t bRow, bCol;  // B(p, j) = b[p*bRow + j*bCol]
  float* c;
  int64_t ldc;  // C(i, j) = c[i*ldc + j]
  float alpha = 1.f;
  float beta = 0.f;  // 0: C is overwritten (never read)
  const float* bias = nullptr;  // bias[j] added to every row, or null
};

// Runs one GEMM on up to `threads` pool threads (1: on the calling thread only).
void gemm(const GemmArgs& g, int threads);

// `batch` GEMMs whose operands step by the given strides (in floats); parallel over the batch when the
// matrices are small, otherwise one multi-threaded GEMM after another.
void gemmBatched(const GemmArgs& g, int64_t batch, int64_t strideA, int64_t strideB, int64_t strideC,
                 int64_t strideBias = 0);

}  // namespace llmlab
