// Data-movement kernels behind the backend's Slice, SplitV, Transpose and Add overrides: an N-d strided
// copy (a slice is an offset plus the input's strides; a transpose is the input's strides permuted) and
// addition with the smaller operand repeated (trailing-dims broadcasting, as residual and bias adds use).
#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "threadPool.h"

namespace llmlab {

void stridedCopy(const uint32_t* src, uint32_t* dst, const int64_t* shape, const int64_t* strides, int rank,
                 int64_t offset) {
  if (rank == 0) {
    dst[0] = src[offset];
    return;
  }
  int64_t total = 1;
  for (int d = 0; d < rank; d++) total *= shape[d];
  if (total == 0) return;
  const int64_t inner = shape[rank - 1], innerStride = strides[rank - 1];
  const int64_t rows = total / inner;
  parallelFor(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)), [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(rank, 0);
    // Position of row r0 in the outer dims.
    int64_t rem = r0;
    for (int d = rank - 2; d >= 0; d--) {
      idx[d] = rem % shape[d];
      rem /= shape[d];
    }
    for (int64_t r = r0; r < r1; r++) {
      int64_t base = offset;
      for (int d = 0; d < rank - 1; d++) base += idx[d] * strides[d];
      uint32_t* out = dst + r * inner;
      const uint32_t* in = src + base;
      if (innerStride == 1) {
        std::memcpy(out, in, sizeof(uint32_t) * inner);
      } else {
        for (int64_t j = 0; j < inner; j++) out[j] = in[j * innerStride];
      }
      for (int d = rank - 2; d >= 0; d--) {
        if (++idx[d] < shape[d]) break;
        idx[d] = 0;
      }
    }
  });
}

void addRepeat(const float* a, int64_t n, const float* b, int64_t m, float* out) {
  if (m == n) {
    parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) out[i] = a[i] + b[i];
    });
    return;
  }
  const int64_t rows = n / m;
  parallelFor(rows, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(m, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* ar = a + r * m;
      float* o = out + r * m;
      for (int64_t j = 0; j < m; j++) o[j] = ar[j] + b[j];
    }
  });
}

void mulRepeat(const float* a, int64_t n, const float* b, int64_t m, float* out) {
  if (m == 1) {
    const float s = b[0];
    parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) out[i] = a[i] * s;
    });
    return;
  }
  if (m == n) {
    parallelFor(n, 1 << 15, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; i++) out[i] = a[i] * b[i];
    });
    return;
  }
  const int64_t rows = n / m;
  parallelFor(rows, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(m, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* ar = a + r * m;
      float* o = out + r * m;
      for (int64_t j = 0; j < m; j++) o[j] = ar[j] * b[j];
    }
  });
}

void argMaxRows(const float* x, int64_t rows, int64_t cols, int32_t* out) {
  parallelFor(rows, std::max<int64_t>(1, (1 << 15) / std::max<int64_t>(cols, 1)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; r++) {
      const float* row = x + r * cols;
      int64_t best = 0;
      // The first maximum wins, and NaN is never greater: as TensorFlow.js's ArgMax.
      for (int64_t j = 1; j < cols; j++) {
        if (row[j] > row[best]) best = j;
      }
      out[r] = static_cast<int32_t>(best);
    }
  });
}

}  // namespace llmlab
