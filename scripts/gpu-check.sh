#!/usr/bin/env bash
# The CUDA check: build modnet against PyTorch's own libtorch (CUDA), run the whole test suite on
# the GPU (the *_CUDA tests included) and modnet-bench on CUDA. Under 8 minutes on one H200.
#
# A GPU machine has PyTorch 2.x, CMake and nvcc but no Debian -dev packages and no network, so
# yaml-cpp, fmt, GoogleTest and zlib travel as Debian .deb files:
#   scripts/gpu-check.sh fetch      # here (Debian, network): apt-get download into .deps/debs
#   scripts/gpu-check.sh            # there: unpack .deps/debs, configure, build, test, bench
#   scripts/gpu-check.sh configure  # only unpack and configure (checks the set-up anywhere)
#   scripts/gpu-check.sh build      # unpack, configure and build (the CPU-side rehearsal)
# (.deps/ is git-ignored; carry it to the GPU machine with the working tree.) zlib is linked
# statically (the .deb's libz.so is an absolute link into the build machine's /lib). Fetch on
# the oldest Debian the GPU machine's C library accepts: bookworm's .debs need glibc >= 2.34.
#
# The rehearsal without a GPU (docs/platforms.md): in a Debian 13 chroot, whose libtorch is 2.6,
#   MODNET_TORCH_PREFIX=/usr/lib/x86_64-linux-gnu/cmake scripts/gpu-check.sh build
# configures and builds exactly this way (the *_CUDA tests compile there and skip at run time).
#
# Environment: MODNET_GPU_BUILD_DIR (default build-gpu), TORCH_CUDA_ARCH_LIST (default 9.0, H200),
# MODNET_GPU_TEST_REGEX (ctest -R filter, default: every test), MODNET_TORCH_PREFIX (the
# directory holding Torch's CMake package; default: the one of `python3 -c 'import torch'`),
# PYTHON (default python3).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
deps="$repo/.deps"
log() { echo "[gpu-check] $*"; }
die() { echo "[gpu-check] error: $*" >&2; exit 1; }
start=$SECONDS
mode="${1:-all}"
case $mode in
  fetch | configure | build | all) ;;
  -h | --help) sed -n '2,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown mode '$mode': expected fetch, configure, build or nothing (everything)" ;;
esac

if [[ $mode == fetch ]]; then
  command -v apt-get >/dev/null || die "fetch needs a Debian machine with apt-get and network"
  # The -dev packages and the runtime libraries they depend on (their names differ by release:
  # libfmt9 / libyaml-cpp0.7 on bookworm, libfmt10 / libyaml-cpp0.8 on trixie).
  dev=(libyaml-cpp-dev libfmt-dev libgtest-dev zlib1g-dev)
  mapfile -t runtime < <(apt-cache depends "${dev[@]}" 2>/dev/null \
    | awk '/^  Depends: (libyaml-cpp0|libfmt[0-9])/ { print $2 }' | sort -u)
  [[ ${#runtime[@]} -ge 2 ]] || die "could not find the runtime libraries of ${dev[*]} with apt-cache (is the package list up to date?)"
  rm -rf "$deps/debs.tmp"
  mkdir -p "$deps/debs.tmp"
  (cd "$deps/debs.tmp" && apt-get download "${dev[@]}" "${runtime[@]}") || die "apt-get download failed"
  rm -rf "$deps/debs" "$deps/prefix"
  mv "$deps/debs.tmp" "$deps/debs"
  ls -l "$deps/debs"
  exit 0
fi

if [[ $mode == all ]]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
fi
python=${PYTHON:-python3}
if [[ -n ${MODNET_TORCH_PREFIX:-} ]]; then
  torch_prefix=$MODNET_TORCH_PREFIX
  log "LibTorch from MODNET_TORCH_PREFIX=$torch_prefix"
else
  torch_prefix="$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)" \
    || die "cannot import torch with $python (set PYTHON, or MODNET_TORCH_PREFIX to the folder of Torch's CMake package)"
  log "PyTorch $("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)') at $torch_prefix"
fi
[[ -n $(find "$torch_prefix" -maxdepth 3 -name TorchConfig.cmake -print -quit 2>/dev/null) ]] \
  || die "no TorchConfig.cmake under $torch_prefix"

# Unpack the .debs into a private prefix.
prefix="$deps/prefix"
if [[ ! -d $prefix/usr ]]; then
  [[ -d $deps/debs ]] || die "no $deps/debs; run 'scripts/gpu-check.sh fetch' on a Debian machine first"
  mkdir -p "$prefix.tmp"
  for f in "$deps"/debs/*.deb; do dpkg -x "$f" "$prefix.tmp" || die "cannot unpack $f"; done
  mv "$prefix.tmp" "$prefix"
fi
libdir="$(dirname "$(find "$prefix/usr/lib" -name 'libyaml-cpp.so*' | head -1)")"
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
config_dir() {
  local f
  f="$(find "$prefix/usr" -name "$1" | head -1)"
  [[ -n $f ]] || die "no $1 in the unpacked .debs ($deps/debs); rerun 'scripts/gpu-check.sh fetch'"
  dirname "$f"
}

build="${MODNET_GPU_BUILD_DIR:-$repo/build-gpu}"
export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-9.0}"
gen=(); command -v ninja >/dev/null && gen=(-G Ninja)
t0=$SECONDS
cmake -S "$repo" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$prefix/usr" \
  -Dyaml-cpp_DIR="$(config_dir yaml-cpp-config.cmake)" \
  -Dfmt_DIR="$(config_dir fmt-config.cmake)" \
  -DGTest_DIR="$(config_dir GTestConfig.cmake)" \
  -DZLIB_ROOT="$prefix/usr" -DZLIB_INCLUDE_DIR="$prefix/usr/include" \
  -DZLIB_LIBRARY="$(find "$prefix/usr/lib" -name 'libz.a' | head -1)" \
  -DMODNET_WITH_OPENCV=OFF -DMODNET_BUILD_TESTS=ON
log "configure: $((SECONDS - t0)) s"
[[ $mode == configure ]] && { log "configured $build"; exit 0; }
t0=$SECONDS
cmake --build "$build" -j"$(nproc)"
log "build: $((SECONDS - t0)) s"
cuda_tests="$(ctest --test-dir "$build" -N -R '_CUDA$' | awk '/Total Tests:/ { print $3 }')"
log "$cuda_tests *_CUDA tests compiled ($(ctest --test-dir "$build" -N | awk '/Total Tests:/ { print $3 }') tests in all)"
[[ $mode == build ]] && { log "built $build in $((SECONDS - start)) s"; exit 0; }

"$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null \
  || log "warning: PyTorch sees no CUDA device: the *_CUDA tests will skip and the CUDA benchmark will fail"
t0=$SECONDS
status=0
ctest --test-dir "$build" --output-on-failure --no-tests=error -j4 --timeout 300 \
  ${MODNET_GPU_TEST_REGEX:+-R "$MODNET_GPU_TEST_REGEX"} >"$build/ctest.log" 2>&1 || status=$?
tail -40 "$build/ctest.log"
log "tests: $((SECONDS - t0)) s (exit $status; full log $build/ctest.log); CUDA tests:"
ctest --test-dir "$build" -R '_CUDA$' --output-on-failure 2>&1 | tail -8 || true

t0=$SECONDS
mkdir -p "${OUT:-$repo/out}"
"$build/bin/modnet-bench" --device cuda --json "${OUT:-$repo/out}/bench-cuda.json" || status=$?
log "bench: $((SECONDS - t0)) s; total $((SECONDS - start)) s"
exit "$status"
