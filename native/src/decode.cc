// A GPT forward pass for generation in one call: `t` new token rows at positions pos0.. go through every
// block (LayerNorm, fused qkv, causal attention over a preallocated key/value cache, projection, MLP) and
// only the last row through the final LayerNorm and the output head. It calls the same kernels, with the same
// sizes, as the model's tensor path (gpt.ts on the native backend), so every row comes out bit for bit the
// same; what it saves is TensorFlow.js's per-op dispatch, the reshapes and transposes between ops, the
// cache's copy-and-concatenate per step, and the head's logits of every row but the last.
#include "decode.h"

#include <cstring>
#include <vector>

#include "gemm.h"
#include "kernels.h"
#include "threadPool.h"

namespace llmlab {

namespace {

// out (m, n) = x (m, k) · w (k, n) + bias, exactly as the native linear op runs it.
void linear(const float* x, const float* w, const float* bias, float* out, int64_t m, int64_t k, int64_t n) {
  GemmArgs g;
  g.m = m, g.n = n, g.k = k;
  g.a = x, g.aRow = k, g.aCol = 1;
  g.b = w, g.bRow = n, g.bCol = 1;
  g.c = out, g.ldc = n;
  g.bias = bias;
  gemmBatched(g, 1, 0, 0, 0, 0);
}

// y = a + b element by element (the order the tensor path adds in does not change a float sum).
void add(float* y, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; i++) y[i] += b[i];
}

float* grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(n);
  return v.data();
}

}  // namespace

void gptForwardRows(const GptShape& s, const GptWeights& w, const int32_t* ids, int64_t t, int64_t pos0,
                    float* kCache, float* vCache, float* logits) {
  const int64_t C = s.embDim, H = s.nHeads, D = C / H, ctx = s.contextLength;
  thread_local std::vector<float> xs, as, qkvs, merged, tmp, ups, gs, stats;
  float* x = grow(xs, t * C);          // (t, C) residual stream
  float* a = grow(as, t * C);          // (t, C) LayerNorm output
  float* qkv = grow(qkvs, t * 3 * C);  // (t, 3C)
  float* att = grow(merged, t * C);    // (t, C) heads side by side
  float* proj = grow(tmp, t * C);      // (t, C)
  float* up = grow(ups, t * 4 * C);    // (t, 4C)
  float* act = grow(gs, t * 4 * C);    // (t, 4C)
  float* mean = grow(stats, 2 * t);
  float* rstd = mean + t;
  for (int64_t r = 0; r < t; r++) {
    const float* te = w.wte + int64_t(ids[r]) * C;
    const float* pe = w.wpe + (pos0 + r) * C;
    for (int64_t j = 0; j < C; j++) x[r * C + j] = te[j] + pe[j];
  }
  for (int64_t l = 0; l < s.nLayers; l++) {
    const GptLayerWeights& L = w.layers[l];
    layerNormForward(x, L.ln1g, L.ln1b, t, C, 1e-5f, a, mean, rstd);
    linear(a, L.attnW, L.attnB, qkv, t, C, 3 * C);
    float* kl = kCache + l * H * ctx * D;  // (H, ctx, D)
    float* vl = vCache + l * H * ctx * D;
    for (int64_t r = 0; r < t; r++)
      for (int64_t h = 0; h < H; h++) {
        std::memcpy(kl + (h * ctx + pos0 + r) * D, qkv + r * 3 * C + C + h * D, sizeof(float) * D);
        std::memcpy(vl + (h * ctx + pos0 + r) * D, qkv + r * 3 * C + 2 * C + h * D, sizeof(float) * D);
      }
    const AttentionLayout layout{D, 3 * C, ctx * D, D, C};
    attentionForwardStrided(layout, qkv, kl, vl, H, t, pos0 + t, D, pos0, att, nullptr, nullptr);
    linear(att, L.projW, L.projB, proj, t, C, C);
    add(x, proj, t * C);
    layerNormForward(x, L.ln2g, L.ln2b, t, C, 1e-5f, a, mean, rstd);
    linear(a, L.fcW, L.fcB, up, t, C, 4 * C);
    geluForward(up, act, t * 4 * C);
    linear(act, L.fc2W, L.fc2B, proj, t, 4 * C, C);
    add(x, proj, t * C);
  }
  // The head reads the last row only (tied: the token table; both are (V, C)).
  layerNormForward(x + (t - 1) * C, w.lnfG, w.lnfB, 1, C, 1e-5f, a, mean, rstd);
  GemmArgs g;
  g.m = 1, g.n = s.vocabSize, g.k = C;
  g.a = a, g.aRow = C, g.aCol = 1;
  g.b = w.head, g.bRow = 1, g.bCol = C;
  g.c = logits, g.ldc = s.vocabSize;
  gemmBatched(g, 1, 0, 0, 0, 0);
}

}  // namespace llmlab
