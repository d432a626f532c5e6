// llm_lab_cpu: a tiny addon built for the plain baseline of its architecture (no -mavx2, no -march), so it
// loads on any CPU. The engine asks it which vector instructions this CPU and OS can run before it loads
// llm_lab_native, whose kernels would die with SIGILL on a CPU that lacks them.
#include <napi.h>

namespace {

Napi::Value Features(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__x86_64__) || defined(_M_X64)
  o.Set("arch", "x64");
  // GCC's and Clang's checks also ask the OS (XGETBV) whether it saves the wide registers.
  __builtin_cpu_init();
  o.Set("sse42", Napi::Boolean::New(env, __builtin_cpu_supports("sse4.2")));
  o.Set("avx", Napi::Boolean::New(env, __builtin_cpu_supports("avx")));
  o.Set("avx2", Napi::Boolean::New(env, __builtin_cpu_supports("avx2")));
  o.Set("fma", Napi::Boolean::New(env, __builtin_cpu_supports("fma")));
  o.Set("avx512f", Napi::Boolean::New(env, __builtin_cpu_supports("avx512f")));
#elif defined(__aarch64__) || defined(_M_ARM64)
  o.Set("arch", "arm64");
  o.Set("neon", Napi::Boolean::New(env, true));  // Advanced SIMD is part of every ARMv8-A core
#else
  o.Set("arch", "other");
#endif
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("features", Napi::Function::New(env, Features, "features"));
  return exports;
}

}  // namespace

NODE_API_MODULE(llm_lab_cpu, Init)
