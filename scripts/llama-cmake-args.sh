#!/usr/bin/env bash
# Prints CMAKE_ARGS for building llama-cpp-python.
#   native    for this machine (default), without AMX: ggml's AMX kernels crash on some
#             Xeon hosts (segfault in ggml_backend_amx_mul_mat), AVX-512 and AVX2 remain.
#   portable  any x86-64 with AVX2 (for images built on one machine and run on another).
set -euo pipefail
mode=${1:-native}
arch=$(uname -m)
if [ "$arch" != "x86_64" ]; then
  echo ""   # ARM and others: llama.cpp's own defaults
  exit 0
fi
if [ "$mode" = "portable" ]; then
  echo "-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
else
  no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
  echo "-DGGML_NATIVE=ON -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx'"
fi
