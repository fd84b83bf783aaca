#!/usr/bin/env bash
# The CUDA check: build modnet against PyTorch's own libtorch (CUDA), run the whole test suite on
# the GPU (the *_CUDA tests included) and modnet-bench on CUDA. Under 8 minutes on one H200.
#
# A GPU machine has PyTorch 2.x, CMake and nvcc but no Debian -dev packages and no network, so
# yaml-cpp, fmt, GoogleTest and zlib travel as Debian .deb files:
#   scripts/gpu-check.sh fetch     # here (Debian, network): apt-get download into .deps/debs
#   scripts/gpu-check.sh           # there: unpack .deps/debs, configure, build, test, bench
#   scripts/gpu-check.sh configure # only unpack and configure (checks the set-up anywhere)
# (.deps/ is git-ignored; carry it to the GPU machine with the working tree.) zlib is linked
# statically (the .deb's libz.so is an absolute link into the build machine's /lib).
#
# Environment: MODNET_GPU_BUILD_DIR (default build-gpu), TORCH_CUDA_ARCH_LIST (default 9.0, H200),
# MODNET_GPU_TEST_REGEX (ctest -R filter, default: every test).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$repo/.deps"
debs=(libyaml-cpp-dev libyaml-cpp0.7 libfmt-dev libfmt9 libgtest-dev zlib1g-dev)
log() { echo "[gpu-check] $*"; }
start=$SECONDS

if [[ ${1:-} == fetch ]]; then
  mkdir -p "$deps/debs"
  (cd "$deps/debs" && apt-get download "${debs[@]}")
  ls -l "$deps/debs"
  exit 0
fi

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python=${PYTHON:-python3}
torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
log "PyTorch $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)') at $torch_prefix"

# Unpack the .debs into a private prefix.
prefix="$deps/prefix"
if [[ ! -d $prefix/usr ]]; then
  [[ -d $deps/debs ]] || { echo "[gpu-check] error: no $deps/debs; run 'scripts/gpu-check.sh fetch' on a Debian machine first" >&2; exit 1; }
  mkdir -p "$prefix"
  for f in "$deps"/debs/*.deb; do dpkg -x "$f" "$prefix"; done
fi
libdir="$(dirname "$(find "$prefix/usr/lib" -name 'libyaml-cpp.so*' | head -1)")"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
config_dir() { dirname "$(find "$prefix/usr" -name "$1" | head -1)"; }

build="${MODNET_GPU_BUILD_DIR:-$repo/build-gpu}"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
cmake -S "$repo" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" \
  -Dyaml-cpp_DIR="$(config_dir yaml-cpp-config.cmake)" \
  -Dfmt_DIR="$(config_dir fmt-config.cmake)" \
  -DGTest_DIR="$(config_dir GTestConfig.cmake)" \
  -DZLIB_ROOT="$prefix/usr" -DZLIB_INCLUDE_DIR="$prefix/usr/include" \
  -DZLIB_LIBRARY="$(find "$prefix/usr/lib" -name 'libz.a' | head -1)" \
  -DMODNET_WITH_OPENCV=OFF -DMODNET_BUILD_TESTS=ON
[[ ${1:-} == configure ]] && { log "configured $build"; exit 0; }
t0=$SECONDS
cmake --build "$build" -j"$(nproc)"
log "build: $((SECONDS - t0)) s"

t0=$SECONDS
ctest --test-dir "$build" --output-on-failure --no-tests=error -j4 --timeout 300 \
  ${MODNET_GPU_TEST_REGEX:+-R "$MODNET_GPU_TEST_REGEX"} | tail -40
log "tests: $((SECONDS - t0)) s; CUDA tests:"
ctest --test-dir "$build" -N -R '_CUDA' | tail -3

t0=$SECONDS
mkdir -p "${OUT:-$repo/out}"
"$build/bin/modnet-bench" --device cuda --json "${OUT:-$repo/out}/bench-cuda.json"
log "bench: $((SECONDS - t0)) s; total $((SECONDS - start)) s"
