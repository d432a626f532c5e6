// Fused model-level kernels of the native backend (row-major float32 buffers; N rows of C or V columns).
// Each works in place on caller-owned memory and runs on the thread pool. Gradients accumulate nothing:
// every output buffer is overwritten.
#pragma once
#include <cstdint>

namespace llmlab {

void layerNormForward(const float* x, const float* gamma, const float* beta, int64_t n, int64_t c, float eps,
                      float* y, float* mean, float* rstd);
void layerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       int64_t n, int64_t c, float* dx, float* dgamma, float* dbeta);
void geluForward(const float* x, float* y, int64_t n);
void geluBackward(const float* x, const float* dy, float* dx, int64_t n);
// Returns Σ loss over rows whose target is not `ignore` and writes their count; lse[i] = log Σ_j exp(z_ij).
double crossEntropyForward(const float* logits, const int32_t* targets, int64_t n, int64_t v, int32_t ignore,
                           float* lse, int64_t* count);
// dlogits = scale·(softmax − onehot) on counted rows, 0 on ignored rows.
void crossEntropyBackward(const float* logits, const int32_t* targets, const float* lse, int64_t n, int64_t v,
                          int32_t ignore, float scale, float* dlogits);
// Returns the first id outside [0, rows) or -1; out(n, c) = table[ids].
int64_t embeddingForward(const int32_t* ids, int64_t n, const float* table, int64_t rows, int64_t c, float* out);
// dtable(rows, c) = Σ over positions of dy rows, scattered by id (dtable is overwritten).
void embeddingBackward(const int32_t* ids, int64_t n, const float* dy, int64_t rows, int64_t c, float* dtable);
// out[j] = Σ_i x[i, j]
void columnSums(const float* x, int64_t n, int64_t c, float* out);
void adamw(float* p, const float* g, float* m, float* v, int64_t n, float lr, float beta1, float beta2, float eps,
           float weightDecay, int64_t step);

// Seeded inverted dropout without a stored mask: element i of a tensor is kept, and scaled by `scale`, when
// dropoutBits(k0, k1, i) ≥ threshold (threshold = ⌊rate·2³²⌋, i taken mod 2³²). The same hash as
// src/core/engine/dropoutMask.ts, so masks made here and in JavaScript agree bit for bit, and a backward pass
// regenerates the forward's mask from the two keys.
struct DropoutMask {
  uint32_t threshold;
  uint32_t k0;
  uint32_t k1;
  float scale;
};
inline uint32_t mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
inline uint32_t dropoutBits(uint32_t k0, uint32_t k1, uint32_t i) { return mix32(mix32(i ^ k0) + k1); }
inline float dropoutFactor(const DropoutMask& m, uint64_t i) {
  return dropoutBits(m.k0, m.k1, static_cast<uint32_t>(i)) >= m.threshold ? m.scale : 0.f;
}
// y[i] = x[i]·factor(i); the gradient is the same map applied to dy.
void dropoutApply(const float* x, float* y, int64_t n, const DropoutMask& m);

// Causal attention over (BH, Tq, D) queries and (BH, Tk, D) keys/values; query i sees keys 0..offset+i.
// With `drop`, the softmaxed weights are dropped (element index (p·Tq + i)·Tk + j of the (BH, Tq, Tk) weights)
// before they weigh the values; `weights`, when asked for, are the weights before dropout.
void attentionForward(const float* q, const float* k, const float* v, int64_t bh, int64_t tq, int64_t tk,
                      int64_t d, int64_t offset, float* out, float* lse, float* weights,
                      const DropoutMask* drop = nullptr);
// The same with explicit strides (in floats): query row i of pair p at q + p·qHead + i·qRow, key/value row j at
// k/v + p·kvHead + j·d, output row at out + p·outHead + i·outRow; lse may be null. Generation reads queries from
// the fused qkv rows, keys and values from a preallocated cache, and writes heads side by side.
struct AttentionLayout {
  int64_t qHead, qRow, kvHead, outHead, outRow;
};
// `drop` indexes the weights as the unstrided version does.
void attentionForwardStrided(const AttentionLayout& l, const float* q, const float* k, const float* v, int64_t bh,
                             int64_t tq, int64_t tk, int64_t d, int64_t offset, float* out, float* lse, float* weights,
                             const DropoutMask* drop = nullptr);
void attentionBackward(const float* q, const float* k, const float* v, const float* out, const float* dout,
                       const float* lse, int64_t bh, int64_t tq, int64_t tk, int64_t d, int64_t offset, float* dq,
                       float* dk, float* dv, const DropoutMask* drop = nullptr);

// dst (row-major, `shape`) = src[offset + Σ idx_d·strides_d]; 32-bit elements (float32 or int32).
void stridedCopy(const uint32_t* src, uint32_t* dst, const int64_t* shape, const int64_t* strides, int rank,
                 int64_t offset);
// out[i] = a[i] + b[i mod m] for i < n (m divides n).
void addRepeat(const float* a, int64_t n, const float* b, int64_t m, float* out);
// out[i] = a[i] · b[i mod m] for i < n (m divides n; m = 1 scales by a scalar, b = a squares).
void mulRepeat(const float* a, int64_t n, const float* b, int64_t m, float* out);
// out[r] = index of the first largest value of row r of x (rows, cols).
void argMaxRows(const float* x, int64_t rows, int64_t cols, int32_t* out);

// `n` N(0, std²) samples of LLM Lab's seeded ziggurat (random.cc), bit-identical to Rng.fillNormal in rng.ts;
// state is the xoshiro128** state (advanced in place), k, w, f its 128-entry tables as rng.ts computes them.
void fillNormal(uint32_t* state, float* out, int64_t n, double stddev, const double* k, const double* w,
                const double* f);

}  // namespace llmlab
