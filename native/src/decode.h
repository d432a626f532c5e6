// Generation's forward pass as one native call (decode.cc): the weights of a GPT in gpt.ts's layout and a
// preallocated key/value cache of (layers, heads, context, head size) per side.
#pragma once
#include <cstdint>
#include <vector>

namespace llmlab {

struct GptShape {
  int64_t nLayers, embDim, nHeads, contextLength, vocabSize;
};

// One block's weights: LayerNorms (C), c_attn (C, 3C) + bias (3C, or null), c_proj (C, C) + (C),
// c_fc (C, 4C) + (4C), the MLP's c_proj (4C, C) + (C).
struct GptLayerWeights {
  const float *ln1g, *ln1b, *attnW, *attnB, *projW, *projB, *ln2g, *ln2b, *fcW, *fcB, *fc2W, *fc2B;
};

struct GptWeights {
  const float* wte;   // (V, C)
  const float* wpe;   // (context, C)
  const float* lnfG;  // (C)
  const float* lnfB;  // (C)
  const float* head;  // (V, C): wte when tied
  std::vector<GptLayerWeights> layers;
};

// Runs rows ids[0..t) at positions pos0..pos0+t-1 (pos0 + t ≤ context): writes their keys and values into
// the caches and the last row's next-token logits (V) into `logits`. Cache positions below pos0 must hold
// the keys and values of the same earlier tokens.
void gptForwardRows(const GptShape& s, const GptWeights& w, const int32_t* ids, int64_t t, int64_t pos0,
                    float* kCache, float* vCache, float* logits);

}  // namespace llmlab
