// Fused causal attention, forward and backward, one (batch, head) pair per task. The forward keeps only
// each query row's log-sum-exp; the backward recomputes the weights from it (as FlashAttention does), so
// no (B, H, T, T) tensor is stored for the gradient. Attention dropout regenerates its mask from the seed's
// keys in both passes (kernels.h), so it stores nothing either.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels.h"
#include "threadPool.h"
#include "vecMath.h"

namespace llmlab {

void attentionForwardStrided(const AttentionLayout& l, const float* q, const float* k, const float* v, int64_t bh,
                             int64_t tq, int64_t tk, int64_t d, int64_t offset, float* out, float* lse, float* weights,
                             const DropoutMask* drop) {
  const float scale = 1.f / std::sqrt(float(d));
  parallelFor(bh, 1, [&](int64_t p0, int64_t p1) {
    std::vector<float> s(tk);
    for (int64_t p = p0; p < p1; p++) {
      const float* qp = q + p * l.qHead;
      const float* kp = k + p * l.kvHead;
      const float* vp = v + p * l.kvHead;
      for (int64_t i = 0; i < tq; i++) {
        const int64_t keys = std::min(tk, offset + i + 1);  // keys 0 .. offset+i
        const float* qi = qp + i * l.qRow;
        for (int64_t j = 0; j < keys; j++) s[j] = vdot(qi, kp + j * d, d) * scale;
        const float mx = vmax(s.data(), keys);
        const float sum = vexpSum(s.data(), keys, mx, s.data(), 1.f);
        const float inv = 1.f / sum;
        float* oi = out + p * l.outHead + i * l.outRow;
        std::memset(oi, 0, sizeof(float) * d);
        if (drop) {
          const uint64_t row = uint64_t(p * tq + i) * uint64_t(tk);
          for (int64_t j = 0; j < keys; j++) vaxpy(oi, s[j] * inv * dropoutFactor(*drop, row + j), vp + j * d, d);
        } else {
          for (int64_t j = 0; j < keys; j++) vaxpy(oi, s[j] * inv, vp + j * d, d);
        }
        if (lse) lse[p * tq + i] = mx + std::log(sum);
        if (weights) {
          float* wi = weights + (p * tq + i) * tk;
          for (int64_t j = 0; j < keys; j++) wi[j] = s[j] * inv;
          for (int64_t j = keys; j < tk; j++) wi[j] = 0.f;
        }
      }
    }
  });
}

void attentionForward(const float* q, const float* k, const float* v, int64_t bh, int64_t tq, int64_t tk,
                      int64_t d, int64_t offset, float* out, float* lse, float* weights, const DropoutMask* drop) {
  const AttentionLayout l{tq * d, d, tk * d, tq * d, d};
  attentionForwardStrided(l, q, k, v, bh, tq, tk, d, offset, out, lse, weights, drop);
}

void attentionBackward(const float* q, const float* k, const float* v, const float* out, const float* dout,
                       const float* lse, int64_t bh, int64_t tq, int64_t tk, int64_t d, int64_t offset, float* dq,
                       float* dk, float* dv, const DropoutMask* drop) {
  const float scale = 1.f / std::sqrt(float(d));
  parallelFor(bh, 1, [&](int64_t p0, int64_t p1) {
    std::vector<float> pr(tk), ds(tk), f(tk, 1.f);
    for (int64_t p = p0; p < p1; p++) {
      const float* qp = q + p * tq * d;
      const float* kp = k + p * tk * d;
      const float* vp = v + p * tk * d;
      float* dqp = dq + p * tq * d;
      float* dkp = dk + p * tk * d;
      float* dvp = dv + p * tk * d;
      std::memset(dkp, 0, sizeof(float) * tk * d);
      std::memset(dvp, 0, sizeof(float) * tk * d);
      for (int64_t i = 0; i < tq; i++) {
        const int64_t keys = std::min(tk, offset + i + 1);
        const float* qi = qp + i * d;
        const float* doi = dout + (p * tq + i) * d;
        const float l = lse[p * tq + i];
        // P_ij recomputed; with dropout factors F_ij the values are weighed by W_ij = P_ij F_ij, so
        // dW_ij = dO_i·V_j, dP_ij = dW_ij F_ij, dV_j += W_ij dO_i, and dS_ij = P_ij (dP_ij − Σ_k P_ik dP_ik),
        // where Σ_k P_ik dP_ik = dO_i·O_i as without dropout.
        for (int64_t j = 0; j < keys; j++) pr[j] = vdot(qi, kp + j * d, d) * scale;
        vexpSum(pr.data(), keys, l, pr.data(), 1.f);
        if (drop) {
          const uint64_t row = uint64_t(p * tq + i) * uint64_t(tk);
          for (int64_t j = 0; j < keys; j++) f[j] = dropoutFactor(*drop, row + j);
        }
        const float di = vdot(doi, out + (p * tq + i) * d, d);
        for (int64_t j = 0; j < keys; j++) ds[j] = pr[j] * (vdot(doi, vp + j * d, d) * f[j] - di) * scale;
        float* dqi = dqp + i * d;
        std::memset(dqi, 0, sizeof(float) * d);
        for (int64_t j = 0; j < keys; j++) {
          vaxpy(dqi, ds[j], kp + j * d, d);
          vaxpy(dkp + j * d, ds[j], qi, d);
          vaxpy(dvp + j * d, pr[j] * f[j], doi, d);
        }
      }
    }
  });
}

}  // namespace llmlab
