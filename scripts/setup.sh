#!/usr/bin/env bash
# Installs everything forgeflow needs on a Debian 12 machine (root), then builds and installs the
# package into the virtual environment .venv (created here; Debian's Python is externally
# managed, so nothing goes into the system's site-packages). Idempotent: safe to run again.
#   FORGEFLOW_TESTS=1 also builds the C++ test suite inside the same build (build/wheel).
#   FORGEFLOW_NATIVE=ON builds for this machine's CPU alone (-march=native); the default, OFF, is
#   a portable build (x86-64-v2 with AVX2 / AVX-512 clones of the hot loops), also when an
#   earlier build/wheel was configured otherwise.
#   The CUDA backend (libforgeflow_cuda.so, installed beside forgeflow/_core) is built wherever the
#   CUDA toolkit is: nvcc on the PATH or in /usr/local/cuda/bin gives FORGEFLOW_CUDA=ON, so that a
#   compile error in the CUDA code fails here (and in CI) even without a GPU; without a toolkit
#   the build is CPU-only. FORGEFLOW_CUDA=OFF|AUTO|ON overrides.
# Prints the path of the Python to use on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(g++ cmake ninja-build pkg-config python3 python3-venv python3-dev
              libxtensor-dev xtl-dev libxsimd-dev libopenblas-dev libdnnl-dev catch2
              dataset-fashion-mnist libjpeg62-turbo-dev libpng-dev libgif-dev libstb-dev
              graphviz libopenmpi-dev openmpi-bin)
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv >&2
fi
py=$PWD/.venv/bin/python
"$py" -m pip install -q --upgrade pip >&2
"$py" -m pip install -q numpy pytest scikit-build-core pybind11 tensorboard pillow \
  nbclient nbformat ipykernel matplotlib scikit-learn pandas pydot >&2

defines=(-C "cmake.define.FORGEFLOW_NATIVE=${FORGEFLOW_NATIVE:-OFF}")
if ! command -v nvcc > /dev/null && [ -x /usr/local/cuda/bin/nvcc ] && [ -z "${CUDACXX:-}" ]; then
  export CUDACXX=/usr/local/cuda/bin/nvcc
fi
cuda=${FORGEFLOW_CUDA:-}
if [ -z "$cuda" ]; then
  if command -v nvcc > /dev/null || [ -n "${CUDACXX:-}" ]; then cuda=ON; else cuda=AUTO; fi
fi
defines+=(-C "cmake.define.FORGEFLOW_CUDA=$cuda")
if [ "${FORGEFLOW_TESTS:-0}" = 1 ]; then
  defines+=(-C cmake.define.FORGEFLOW_BUILD_TESTS=ON)
fi
# One build folder for the extension and (optionally) the C++ tests: nothing is compiled twice.
"$py" -m pip install -q --no-build-isolation -C build-dir=build/wheel "${defines[@]}" . >&2
echo "$py"
