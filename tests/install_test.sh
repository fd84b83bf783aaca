#!/usr/bin/env bash
# Installs a built modnet into a temporary prefix, builds docs/examples/custom_model against it with
# find_package(modnet), and trains its gated model for a few steps (the CTest test
# `install_find_package`, tests/checks.cmake). Everything happens in one temporary folder, removed
# at the end (kept when MODNET_KEEP_TEST_TMP=1, for a look after a failure).
#
#   tests/install_test.sh --build-dir DIR --source-dir DIR [--cmake CMAKE] [--generator G]
#       [--make-program P] [--cxx-compiler CXX] [--build-type T] [--launcher L] [--library FILE]
#       [--prefix-path DIR]... [--define VAR=VALUE]...
#
# --library: the built library file (checked first, for a clear message when it is not built);
# --prefix-path: more CMAKE_PREFIX_PATH entries for the example (after the install prefix);
# --define: a -D cache entry for the example's configure (Torch_DIR=..., same packages as the build).
set -euo pipefail

cmake_bin=cmake build_dir="" source_dir="" generator="" make_program="" cxx="" build_type="" launcher=""
library=""
prefix_paths=() defines=()
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "install_test: $1 needs a value" >&2; exit 2; }
  case "$1" in
    --cmake) cmake_bin="$2" ;;
    --build-dir) build_dir="$2" ;;
    --source-dir) source_dir="$2" ;;
    --generator) generator="$2" ;;
    --make-program) make_program="$2" ;;
    --cxx-compiler) cxx="$2" ;;
    --build-type) build_type="$2" ;;
    --launcher) launcher="$2" ;;
    --library) library="$2" ;;
    --prefix-path) prefix_paths+=("$2") ;;
    --define) defines+=("-D$2") ;;
    *) echo "install_test: unknown argument '$1'" >&2; exit 2 ;;
  esac
  shift 2
done
[[ -n "$build_dir" && -n "$source_dir" ]] || { echo "install_test: --build-dir and --source-dir are required" >&2; exit 2; }
example="$source_dir/docs/examples/custom_model"
[[ -f "$example/CMakeLists.txt" ]] || { echo "install_test: no example at $example" >&2; exit 1; }
if [[ -n "$library" && ! -f "$library" ]]; then
  echo "install_test: $library is not built; build the library first: cmake --build $build_dir --target modnet" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/modnet-install-test.XXXXXX")"
cleanup() {
  if [[ "${MODNET_KEEP_TEST_TMP:-0}" == 1 ]]; then echo "install_test: kept $tmp"; else rm -rf -- "$tmp"; fi
}
trap cleanup EXIT
prefix="$tmp/prefix"
step() { echo; echo "==== install_test: $*"; }
config_args=()
[[ -n "$build_type" ]] && config_args=(--config "$build_type")

step "install the Development component of $build_dir into $prefix"
"$cmake_bin" --install "$build_dir" --prefix "$prefix" --component Development ${config_args[@]+"${config_args[@]}"}

config_file="$(find "$prefix" -path '*/cmake/modnet/modnetConfig.cmake' -print -quit)"
[[ -n "$config_file" ]] || { echo "install_test: no modnetConfig.cmake under $prefix" >&2; exit 1; }
[[ -f "$prefix/include/modnet/run/experiment.h" ]] || { echo "install_test: headers not installed" >&2; exit 1; }
if [[ -e "$prefix/include/modnet/bench" ]] || grep -rqs "modnet_bench" "$(dirname "$config_file")"; then
  echo "install_test: the internal modnet_bench library (or its headers) was installed" >&2
  exit 1
fi

step "configure the example against the installed package"
prefix_path="$prefix"
for p in ${prefix_paths[@]+"${prefix_paths[@]}"}; do prefix_path+=";$p"; done
configure=("$cmake_bin" -S "$example" -B "$tmp/build" "-DCMAKE_PREFIX_PATH=$prefix_path")
[[ -n "$generator" ]] && configure+=(-G "$generator")
[[ -n "$make_program" ]] && configure+=("-DCMAKE_MAKE_PROGRAM=$make_program")
[[ -n "$cxx" ]] && configure+=("-DCMAKE_CXX_COMPILER=$cxx")
[[ -n "$build_type" ]] && configure+=("-DCMAKE_BUILD_TYPE=$build_type")
[[ -n "$launcher" ]] && configure+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
configure+=(${defines[@]+"${defines[@]}"})
"${configure[@]}"
found="$(sed -n 's/^modnet_DIR:[A-Z]*=//p' "$tmp/build/CMakeCache.txt")"
if [[ "$found" != "$(dirname "$config_file")" ]]; then
  echo "install_test: find_package(modnet) found '$found', not the installed $(dirname "$config_file")" >&2
  exit 1
fi

step "build the example"
"$cmake_bin" --build "$tmp/build" ${config_args[@]+"${config_args[@]}"}
exe="$(find "$tmp/build" -type f -name train_gated -perm -u+x -print -quit)"
[[ -n "$exe" ]] || { echo "install_test: train_gated was not built" >&2; exit 1; }

step "train the gated model for a few steps"
"$exe" --config "$example/gated.yaml" --out "$tmp/run" \
  train.steps=20 train.eval_every=10 init.steps=2 device=cpu
[[ -s "$tmp/run/summary.json" ]] || { echo "install_test: the run wrote no summary.json" >&2; exit 1; }
echo "summary.json:"; cat "$tmp/run/summary.json"; echo
step "OK"
