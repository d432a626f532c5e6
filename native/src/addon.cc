// The N-API surface of llm_lab_native: thin, checked wrappers that take JS typed arrays (the tensors'
// own memory, no copies) and run the kernels of gemm.cc, kernels.cc and attention.cc synchronously.
// Every buffer's length is checked against the sizes passed, so a caller bug throws instead of corrupting.
// Every export runs inside Guarded: a C++ exception from a kernel (std::bad_alloc included, on any pool
// thread) becomes a JavaScript Error naming the kernel, never an abort.
#include <napi.h>

#include <exception>
#include <new>
#include <string>

#include "decode.h"
#include "gemm.h"
#include "simd.h"
#include "kernels.h"
#include "threadPool.h"

namespace {

using namespace llmlab;

int64_t I(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
float F(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().FloatValue(); }

template <typename T, typename Arr>
T* buffer(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  if (!info[i].IsTypedArray()) throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected a typed array");
  Arr a = info[i].As<Arr>();
  if (static_cast<int64_t>(a.ElementLength()) < need) {
    throw Napi::RangeError::New(info.Env(), std::string(what) + ": buffer holds " + std::to_string(a.ElementLength()) +
                                                " elements, needs " + std::to_string(need));
  }
  return a.Data();
}
float* f32(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  return buffer<float, Napi::Float32Array>(info, i, need, what);
}
int32_t* i32(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  return buffer<int32_t, Napi::Int32Array>(info, i, need, what);
}
uint32_t* u32(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  return buffer<uint32_t, Napi::Uint32Array>(info, i, need, what);
}
double* f64(const Napi::CallbackInfo& info, size_t i, int64_t need, const char* what) {
  return buffer<double, Napi::Float64Array>(info, i, need, what);
}
// Index (in elements) of the last element a strided matrix touches, plus one.
int64_t extent(int64_t rows, int64_t cols, int64_t rs, int64_t cs) {
  return (rows <= 0 || cols <= 0) ? 0 : (rows - 1) * rs + (cols - 1) * cs + 1;
}

// Runs an export and turns what it throws into a JavaScript Error; the export's name is the callback's data.
template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  const std::string name = static_cast<const char*>(info.Data());
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw Napi::Error::New(info.Env(), "native " + name + ": out of memory (a kernel could not allocate its working memory)");
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), "native " + name + " failed: " + e.what());
  } catch (...) {
    throw Napi::Error::New(info.Env(), "native " + name + " failed with an unknown C++ exception");
  }
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("threads", poolThreads());
#if defined(LLMLAB_SIMD_AVX2)
  o.Set("simd", "AVX2+FMA");
#elif defined(LLMLAB_SIMD_NEON)
  o.Set("simd", "NEON");
#else
  o.Set("simd", "portable C++");
#endif
#if defined(__VERSION__)
  o.Set("compiler", __VERSION__);
#endif
  return o;
}

// gemm(a, aRow, aCol, b, bRow, bCol, c, ldc, m, n, k, alpha, beta, bias|null, batch, sA, sB, sC, sBias)
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  GemmArgs g;
  g.aRow = I(info, 1), g.aCol = I(info, 2), g.bRow = I(info, 4), g.bCol = I(info, 5), g.ldc = I(info, 7);
  g.m = I(info, 8), g.n = I(info, 9), g.k = I(info, 10), g.alpha = F(info, 11), g.beta = F(info, 12);
  const int64_t batch = I(info, 14), sA = I(info, 15), sB = I(info, 16), sC = I(info, 17), sBias = I(info, 18);
  if (batch <= 0 || g.m <= 0 || g.n <= 0) return info.Env().Undefined();
  g.a = f32(info, 0, (batch - 1) * sA + extent(g.m, g.k, g.aRow, g.aCol), "gemm A");
  g.b = f32(info, 3, (batch - 1) * sB + extent(g.k, g.n, g.bRow, g.bCol), "gemm B");
  g.c = f32(info, 6, (batch - 1) * sC + extent(g.m, g.n, g.ldc, 1), "gemm C");
  g.bias = info[13].IsNull() || info[13].IsUndefined() ? nullptr : f32(info, 13, (batch - 1) * sBias + g.n, "gemm bias");
  gemmBatched(g, batch, sA, sB, sC, sBias);
  return info.Env().Undefined();
}

Napi::Value LayerNormForward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 3), c = I(info, 4);
  layerNormForward(f32(info, 0, n * c, "x"), f32(info, 1, c, "gamma"), f32(info, 2, c, "beta"), n, c, F(info, 5),
                   f32(info, 6, n * c, "y"), f32(info, 7, n, "mean"), f32(info, 8, n, "rstd"));
  return info.Env().Undefined();
}

Napi::Value LayerNormBackward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 5), c = I(info, 6);
  layerNormBackward(f32(info, 0, n * c, "dy"), f32(info, 1, n * c, "x"), f32(info, 2, c, "gamma"), f32(info, 3, n, "mean"),
                    f32(info, 4, n, "rstd"), n, c, f32(info, 7, n * c, "dx"), f32(info, 8, c, "dgamma"),
                    f32(info, 9, c, "dbeta"));
  return info.Env().Undefined();
}

Napi::Value GeluForward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 2);
  geluForward(f32(info, 0, n, "x"), f32(info, 1, n, "y"), n);
  return info.Env().Undefined();
}

Napi::Value GeluBackward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 3);
  geluBackward(f32(info, 0, n, "x"), f32(info, 1, n, "dy"), f32(info, 2, n, "dx"), n);
  return info.Env().Undefined();
}

// crossEntropyForward(logits, targets, n, v, ignore, lse) → [lossSum, count]
Napi::Value CrossEntropyForward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 2), v = I(info, 3);
  int64_t count = 0;
  const double sum = crossEntropyForward(f32(info, 0, n * v, "logits"), i32(info, 1, n, "targets"), n, v,
                                         static_cast<int32_t>(I(info, 4)), f32(info, 5, n, "lse"), &count);
  Napi::Array r = Napi::Array::New(info.Env(), 2);
  r.Set(0u, sum);
  r.Set(1u, static_cast<double>(count));
  return r;
}

Napi::Value CrossEntropyBackward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 3), v = I(info, 4);
  crossEntropyBackward(f32(info, 0, n * v, "logits"), i32(info, 1, n, "targets"), f32(info, 2, n, "lse"), n, v,
                       static_cast<int32_t>(I(info, 5)), F(info, 6), f32(info, 7, n * v, "dlogits"));
  return info.Env().Undefined();
}

// embeddingForward(ids, n, table, rows, c, out) → index of the first bad id, or -1
Napi::Value EmbeddingForward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 1), rows = I(info, 3), c = I(info, 4);
  const int64_t bad = embeddingForward(i32(info, 0, n, "ids"), n, f32(info, 2, rows * c, "table"), rows, c,
                                       f32(info, 5, n * c, "out"));
  return Napi::Number::New(info.Env(), static_cast<double>(bad));
}

Napi::Value EmbeddingBackward(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 1), rows = I(info, 3), c = I(info, 4);
  embeddingBackward(i32(info, 0, n, "ids"), n, f32(info, 2, n * c, "dy"), rows, c, f32(info, 5, rows * c, "dtable"));
  return info.Env().Undefined();
}

Napi::Value ColumnSums(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 1), c = I(info, 2);
  columnSums(f32(info, 0, n * c, "x"), n, c, f32(info, 3, c, "out"));
  return info.Env().Undefined();
}

// adamw(p, g, m, v, n, lr, beta1, beta2, eps, weightDecay, step)
Napi::Value AdamW(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 4);
  adamw(f32(info, 0, n, "param"), f32(info, 1, n, "grad"), f32(info, 2, n, "m"), f32(info, 3, n, "v"), n, F(info, 5),
        F(info, 6), F(info, 7), F(info, 8), F(info, 9), I(info, 10));
  return info.Env().Undefined();
}

// A dropout mask given as four arguments from `at` on (threshold, k0, k1, scale); absent when info[at] is
// missing, null or undefined.
bool dropoutArgs(const Napi::CallbackInfo& info, size_t at, DropoutMask* m) {
  if (info.Length() <= at || info[at].IsNull() || info[at].IsUndefined()) return false;
  *m = {info[at].As<Napi::Number>().Uint32Value(), info[at + 1].As<Napi::Number>().Uint32Value(),
        info[at + 2].As<Napi::Number>().Uint32Value(), F(info, at + 3)};
  return true;
}

// dropoutApply(x, y, n, threshold, k0, k1, scale)
Napi::Value DropoutApply(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 2);
  DropoutMask m{};
  if (!dropoutArgs(info, 3, &m)) throw Napi::TypeError::New(info.Env(), "dropoutApply: expected threshold, k0, k1, scale");
  dropoutApply(f32(info, 0, n, "x"), f32(info, 1, n, "y"), n, m);
  return info.Env().Undefined();
}

// attentionForward(q, k, v, bh, tq, tk, d, offset, out, lse, weights|null[, threshold, k0, k1, scale])
Napi::Value AttentionForward(const Napi::CallbackInfo& info) {
  const int64_t bh = I(info, 3), tq = I(info, 4), tk = I(info, 5), d = I(info, 6), off = I(info, 7);
  float* w = info[10].IsNull() || info[10].IsUndefined() ? nullptr : f32(info, 10, bh * tq * tk, "weights");
  DropoutMask m{};
  const bool drop = dropoutArgs(info, 11, &m);
  attentionForward(f32(info, 0, bh * tq * d, "q"), f32(info, 1, bh * tk * d, "k"), f32(info, 2, bh * tk * d, "v"), bh, tq,
                   tk, d, off, f32(info, 8, bh * tq * d, "out"), f32(info, 9, bh * tq, "lse"), w, drop ? &m : nullptr);
  return info.Env().Undefined();
}

// attentionBackward(q, k, v, out, dout, lse, bh, tq, tk, d, offset, dq, dk, dv[, threshold, k0, k1, scale])
Napi::Value AttentionBackward(const Napi::CallbackInfo& info) {
  const int64_t bh = I(info, 6), tq = I(info, 7), tk = I(info, 8), d = I(info, 9), off = I(info, 10);
  DropoutMask m{};
  const bool drop = dropoutArgs(info, 14, &m);
  attentionBackward(f32(info, 0, bh * tq * d, "q"), f32(info, 1, bh * tk * d, "k"), f32(info, 2, bh * tk * d, "v"),
                    f32(info, 3, bh * tq * d, "out"), f32(info, 4, bh * tq * d, "dout"), f32(info, 5, bh * tq, "lse"), bh,
                    tq, tk, d, off, f32(info, 11, bh * tq * d, "dq"), f32(info, 12, bh * tk * d, "dk"),
                    f32(info, 13, bh * tk * d, "dv"), drop ? &m : nullptr);
  return info.Env().Undefined();
}

// stridedCopy(src, dst, shape[], strides[], offset): typed arrays of 32-bit elements (Float32 or Int32).
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  Napi::Array shapeArr = info[2].As<Napi::Array>(), strideArr = info[3].As<Napi::Array>();
  const int rank = static_cast<int>(shapeArr.Length());
  if (rank > 8 || strideArr.Length() != shapeArr.Length())
    throw Napi::RangeError::New(info.Env(), "stridedCopy: rank above 8 or shape/strides mismatch");
  int64_t shape[8], strides[8], total = 1, last = I(info, 4);
  for (int d = 0; d < rank; d++) {
    shape[d] = shapeArr.Get(d).As<Napi::Number>().Int64Value();
    strides[d] = strideArr.Get(d).As<Napi::Number>().Int64Value();
    total *= shape[d];
    if (shape[d] > 0) last += (shape[d] - 1) * strides[d];
  }
  if (total == 0) return info.Env().Undefined();
  auto raw = [&](size_t i, int64_t need, const char* what) -> uint32_t* {
    Napi::TypedArray t = info[i].As<Napi::TypedArray>();
    if (t.TypedArrayType() != napi_float32_array && t.TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(info.Env(), std::string(what) + ": expected Float32Array or Int32Array");
    if (static_cast<int64_t>(t.ElementLength()) < need)
      throw Napi::RangeError::New(info.Env(), std::string(what) + ": buffer too small");
    return reinterpret_cast<uint32_t*>(static_cast<uint8_t*>(t.ArrayBuffer().Data()) + t.ByteOffset());
  };
  const uint32_t* src = raw(0, last + 1, "stridedCopy src");
  uint32_t* dst = raw(1, total, "stridedCopy dst");
  stridedCopy(src, dst, shape, strides, rank, I(info, 4));
  return info.Env().Undefined();
}

// addRepeat(a, n, b, m, out)
Napi::Value AddRepeat(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 1), m = I(info, 3);
  if (m <= 0 || n % m != 0) throw Napi::RangeError::New(info.Env(), "addRepeat: m must divide n");
  addRepeat(f32(info, 0, n, "a"), n, f32(info, 2, m, "b"), m, f32(info, 4, n, "out"));
  return info.Env().Undefined();
}

// mulRepeat(a, n, b, m, out)
Napi::Value MulRepeat(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 1), m = I(info, 3);
  if (m <= 0 || n % m != 0) throw Napi::RangeError::New(info.Env(), "mulRepeat: m must divide n");
  mulRepeat(f32(info, 0, n, "a"), n, f32(info, 2, m, "b"), m, f32(info, 4, n, "out"));
  return info.Env().Undefined();
}

// argMaxRows(x, rows, cols, out)
Napi::Value ArgMaxRows(const Napi::CallbackInfo& info) {
  const int64_t rows = I(info, 1), cols = I(info, 2);
  if (cols <= 0) throw Napi::RangeError::New(info.Env(), "argMaxRows: a row needs at least one value");
  argMaxRows(f32(info, 0, rows * cols, "x"), rows, cols, i32(info, 3, rows, "out"));
  return info.Env().Undefined();
}

// fillNormal(state[4], out, n, std, k[128], w[128], f[128])
Napi::Value FillNormal(const Napi::CallbackInfo& info) {
  const int64_t n = I(info, 2);
  fillNormal(u32(info, 0, 4, "state"), f32(info, 1, n, "out"), n, info[3].As<Napi::Number>().DoubleValue(),
             f64(info, 4, 128, "k"), f64(info, 5, 128, "w"), f64(info, 6, 128, "f"));
  return info.Env().Undefined();
}

// gptForward(weights[], shape[nLayers, C, H, context, V], ids, t, pos0, kCache, vCache, logits): weights are
// wte, wpe, ln_f γ, ln_f β, head, then per block ln_1 γ β, c_attn W b, c_proj W b, ln_2 γ β, c_fc W b, c_proj W b
// (an empty array for a missing qkv bias). Checks every size and token id before computing anything.
Napi::Value GptForward(const Napi::CallbackInfo& info) {
  Napi::Array arr = info[0].As<Napi::Array>(), dims = info[1].As<Napi::Array>();
  if (dims.Length() != 5) throw Napi::RangeError::New(info.Env(), "gptForward: shape needs 5 numbers");
  auto dim = [&](uint32_t i) { return dims.Get(i).As<Napi::Number>().Int64Value(); };
  const GptShape s{dim(0), dim(1), dim(2), dim(3), dim(4)};
  const int64_t C = s.embDim, V = s.vocabSize, ctx = s.contextLength;
  if (s.nLayers < 0 || C <= 0 || s.nHeads <= 0 || C % s.nHeads != 0 || ctx <= 0 || V <= 0)
    throw Napi::RangeError::New(info.Env(), "gptForward: bad model shape");
  if (arr.Length() != static_cast<uint32_t>(5 + 12 * s.nLayers))
    throw Napi::RangeError::New(info.Env(), "gptForward: expected 5 + 12 per layer weight arrays");
  auto weight = [&](uint32_t i, int64_t need, bool optional = false) -> const float* {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(info.Env(), "gptForward: weight " + std::to_string(i) + " is not a Float32Array");
    Napi::Float32Array a = v.As<Napi::Float32Array>();
    if (optional && a.ElementLength() == 0) return nullptr;
    if (static_cast<int64_t>(a.ElementLength()) != need)
      throw Napi::RangeError::New(info.Env(), "gptForward: weight " + std::to_string(i) + " holds " +
                                                  std::to_string(a.ElementLength()) + " values, needs " + std::to_string(need));
    return a.Data();
  };
  GptWeights w;
  w.wte = weight(0, V * C), w.wpe = weight(1, ctx * C), w.lnfG = weight(2, C), w.lnfB = weight(3, C), w.head = weight(4, V * C);
  for (int64_t l = 0; l < s.nLayers; l++) {
    const uint32_t b = static_cast<uint32_t>(5 + 12 * l);
    w.layers.push_back({weight(b, C), weight(b + 1, C), weight(b + 2, C * 3 * C), weight(b + 3, 3 * C, true),
                        weight(b + 4, C * C), weight(b + 5, C), weight(b + 6, C), weight(b + 7, C), weight(b + 8, C * 4 * C),
                        weight(b + 9, 4 * C), weight(b + 10, 4 * C * C), weight(b + 11, C)});
  }
  const int64_t t = I(info, 3), pos0 = I(info, 4);
  if (t <= 0 || pos0 < 0 || pos0 + t > ctx) throw Napi::RangeError::New(info.Env(), "gptForward: positions outside the context");
  const int32_t* ids = i32(info, 2, t, "ids");
  for (int64_t r = 0; r < t; r++)
    if (ids[r] < 0 || ids[r] >= V)
      throw Napi::RangeError::New(info.Env(), "gptForward: token id " + std::to_string(ids[r]) + " outside the vocabulary");
  const int64_t cache = s.nLayers * ctx * C;
  gptForwardRows(s, w, ids, t, pos0, f32(info, 5, cache, "kCache"), f32(info, 6, cache, "vCache"), f32(info, 7, V, "logits"));
  return info.Env().Undefined();
}

#define LLMLAB_EXPORT(name, fn) \
  exports.Set(name, Napi::Function::New(env, Guarded<fn>, name, const_cast<char*>(name)))

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  LLMLAB_EXPORT("info", Info);
  LLMLAB_EXPORT("gemm", Gemm);
  LLMLAB_EXPORT("layerNormForward", LayerNormForward);
  LLMLAB_EXPORT("layerNormBackward", LayerNormBackward);
  LLMLAB_EXPORT("geluForward", GeluForward);
  LLMLAB_EXPORT("geluBackward", GeluBackward);
  LLMLAB_EXPORT("crossEntropyForward", CrossEntropyForward);
  LLMLAB_EXPORT("crossEntropyBackward", CrossEntropyBackward);
  LLMLAB_EXPORT("embeddingForward", EmbeddingForward);
  LLMLAB_EXPORT("embeddingBackward", EmbeddingBackward);
  LLMLAB_EXPORT("columnSums", ColumnSums);
  LLMLAB_EXPORT("adamw", AdamW);
  LLMLAB_EXPORT("dropoutApply", DropoutApply);
  LLMLAB_EXPORT("attentionForward", AttentionForward);
  LLMLAB_EXPORT("attentionBackward", AttentionBackward);
  LLMLAB_EXPORT("stridedCopy", StridedCopy);
  LLMLAB_EXPORT("addRepeat", AddRepeat);
  LLMLAB_EXPORT("mulRepeat", MulRepeat);
  LLMLAB_EXPORT("argMaxRows", ArgMaxRows);
  LLMLAB_EXPORT("fillNormal", FillNormal);
  LLMLAB_EXPORT("gptForward", GptForward);
  return exports;
}

}  // namespace

NODE_API_MODULE(llm_lab_native, Init)
