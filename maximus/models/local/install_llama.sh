#!/usr/bin/env bash
# Install llama-cpp-python (the embedded model's runtime) so that it runs on the machine it
# lands on, not only on the one that built it.
#
# llama-cpp-python builds llama.cpp from source, and by default for the build machine's CPU
# (GGML_NATIVE): on a CPU that reports AMX, that build's AMX path faults in `ldtilecfg`. This
# script builds a portable x86-64 runtime instead (AVX2, FMA, F16C; no AVX-512, no AMX), or a
# CUDA one with every layer offloadable when nvcc and a GPU are present.
#
# pip keys its wheel cache by the source, not by CMAKE_ARGS, so a native wheel built once would
# come back. The wheel is built with pip's cache off, into a wheelhouse of our own whose folder
# names the version and the flags; later installs take it from there (seconds, not minutes).
#
# Usage: bash maximus/models/local/install_llama.sh [--force | --print-flags]
#   (installed: ``maximus model rebuild`` runs this file with the environment's Python)
#   --force                build again even if the wheelhouse has this build
#   PYTHON                 interpreter of the target environment (default: python3 on PATH)
#   MAXIMUS_LLAMA_VERSION  llama-cpp-python version (default below)
#   MAXIMUS_LLAMA_BUILD    portable (default on CPU), cuda (default where nvcc and a GPU are),
#                          native (this CPU only: fastest, not portable)
#   MAXIMUS_WHEELHOUSE     where built wheels are kept (default ~/.cache/maximus/wheels)
set -euo pipefail
PYTHON=${PYTHON:-python3}
VERSION=${MAXIMUS_LLAMA_VERSION:-0.3.36}
if [ -z "${MAXIMUS_LLAMA_BUILD:-}" ]; then
  if command -v nvcc >/dev/null 2>&1 && command -v nvidia-smi >/dev/null 2>&1 \
    && nvidia-smi -L >/dev/null 2>&1; then
    MAXIMUS_LLAMA_BUILD=cuda
  else
    MAXIMUS_LLAMA_BUILD=portable
  fi
fi
PORTABLE="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
PORTABLE="$PORTABLE -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
case "$MAXIMUS_LLAMA_BUILD" in
  portable) FLAGS="$PORTABLE" ;;
  cuda) FLAGS="$PORTABLE -DGGML_CUDA=ON" ;;
  native) FLAGS="-DGGML_NATIVE=ON" ;;
  *) echo "MAXIMUS_LLAMA_BUILD must be portable, cuda or native" >&2; exit 2 ;;
esac
# Neither the multimodal helper nor llama.cpp's own programs are used: skipping them halves
# the build on 2 cores.
FLAGS="$FLAGS -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
FLAGS="$FLAGS -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_CURL=OFF"
if [ "${1:-}" = "--print-flags" ]; then
  echo "$FLAGS"
  exit 0
fi
key=$(printf '%s %s %s' "$VERSION" "$MAXIMUS_LLAMA_BUILD" "$FLAGS" | sha256sum | cut -c1-12)
house=${MAXIMUS_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/maximus/wheels}
dir="$house/llama-cpp-python-$VERSION-$MAXIMUS_LLAMA_BUILD-$key"
if [ "${1:-}" = "--force" ]; then
  rm -rf "$dir"
fi
if ! ls "$dir"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "Building llama-cpp-python $VERSION ($MAXIMUS_LLAMA_BUILD) once; on 2 cores this takes minutes."
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  # The flags go in twice: as CMAKE_ARGS, and as scikit-build-core's own setting.
  CMAKE_ARGS="$FLAGS" SKBUILD_CMAKE_ARGS="${FLAGS// /;}" \
    CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
    "$PYTHON" -m pip wheel -v --no-deps --no-cache-dir --no-binary llama-cpp-python \
    -w "$dir.tmp" "llama-cpp-python==$VERSION" >"$dir.tmp/build.log" 2>&1 \
    || { tail -n 30 "$dir.tmp/build.log" >&2; echo "build failed: $dir.tmp/build.log" >&2; exit 1; }
  grep -E "Adding CPU backend variant" "$dir.tmp/build.log" || true
  if [ "$MAXIMUS_LLAMA_BUILD" != native ]; then
    # Refuse a wheel that would fault elsewhere: no AMX tile or AVX-512 code in the CPU backend.
    check=$(mktemp -d)
    "$PYTHON" -m zipfile -e "$dir.tmp"/llama_cpp_python-*.whl "$check"
    if objdump -d "$check"/llama_cpp/lib/libggml-cpu.so* 2>/dev/null \
      | grep -q -E "ldtilecfg|%zmm[0-9]"; then
      rm -rf "$check"
      echo "the build has AMX or AVX-512 code although $MAXIMUS_LLAMA_BUILD was asked for;" \
        "see $dir.tmp/build.log" >&2
      exit 1
    fi
    rm -rf "$check"
  fi
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
fi
"$PYTHON" -m pip install --quiet --force-reinstall --no-deps "$dir"/llama_cpp_python-*.whl
"$PYTHON" -m pip install --quiet --find-links "$dir" --only-binary llama-cpp-python \
  "llama-cpp-python[server]==$VERSION"
echo "llama-cpp-python $VERSION ($MAXIMUS_LLAMA_BUILD) installed from $dir"
