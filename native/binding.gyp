{
  "targets": [
    {
      "target_name": "llm_lab_native",
      "sources": ["src/addon.cc", "src/gemm.cc", "src/kernels.cc", "src/attention.cc", "src/threadPool.cc", "src/layout.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-O2", "-O0"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fno-math-errno", "-mavx2", "-mfma", "-fexceptions", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
