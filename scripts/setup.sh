#!/usr/bin/env bash
# modnet set-up: Debian packages, OpenBLAS as the system BLAS, ccache, data, and the build.
#
# Sourced by scripts/run.sh and scripts/test.sh (which then call modnet_setup and
# modnet_build); run directly (`scripts/setup.sh`) it does the set-up only.
#
# Environment:
#   MODNET_BUILD_DIR      build folder (default: <repo>/build)
#   MODNET_CMAKE_ARGS     extra arguments for the first configure, e.g.
#                         "-DCMAKE_PREFIX_PATH=/opt/torch -DMODNET_WITH_OPENCV=OFF"
#   MODNET_SKIP_APT=1     do not check or install Debian packages (non-Debian or offline machines)
#   MODNET_SHARED_DIR     the read-only shared/ folder (default: <repo>/../shared)
#   CCACHE_DIR            default: $HOME/.cache/ccache; MODNET_CCACHE_SIZE (default 5G)

MODNET_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODNET_BUILD_DIR="${MODNET_BUILD_DIR:-$MODNET_REPO/build}"
MODNET_SHARED_DIR="${MODNET_SHARED_DIR:-$MODNET_REPO/../shared}"

# Everything the build, the tests and the experiments need; the same names on both supported
# releases (Debian 12 "bookworm": libtorch 1.13, g++ 12; Debian 13 "trixie": libtorch 2.6, g++ 14).
MODNET_PACKAGES=(
  ca-certificates build-essential g++ cmake git ninja-build ccache pkg-config
  libtorch-dev
  libopenblas0-pthread   # mandatory: Debian's reference BLAS is ~25x slower
  libyaml-cpp-dev libfmt-dev libgtest-dev libopencv-dev
  zlib1g-dev             # gzip-compressed IDX files (MNIST, Fashion-MNIST)
  gnuplot-nox            # figures
  python3-torch          # PyTorch comparison benchmark
  dataset-fashion-mnist  # IDX files under /usr/share/datasets/fashion-mnist/
)
# The libtorch-dev version each supported release ships (checked after the install).
declare -A MODNET_TORCH_SERIES=([bookworm]=1.13 [trixie]=2.6)

modnet_log() { echo "[modnet] $*"; }
modnet_die() { echo "[modnet] error: $*" >&2; exit 1; }

# Prefix for commands that need root: nothing as root, sudo otherwise.
modnet_as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    modnet_die "need root (or sudo) to run: $*"
  fi
}

# The Debian release this machine runs, from os-release (MODNET_OS_RELEASE names another file,
# for tests): prints its codename when it is one modnet supports; otherwise says what to install
# by hand and fails.
modnet_debian_release() {
  local file="${MODNET_OS_RELEASE:-/etc/os-release}" id="" codename="" pretty=""
  if [[ -r $file ]]; then
    id="$(. "$file" && echo "${ID:-}")"
    codename="$(. "$file" && echo "${VERSION_CODENAME:-}")"
    pretty="$(. "$file" && echo "${PRETTY_NAME:-${ID:-unknown}}")"
  fi
  if [[ $id == debian && -n ${MODNET_TORCH_SERIES[$codename]:-} ]]; then
    echo "$codename"
    return 0
  fi
  echo "[modnet] error: unsupported system '${pretty:-unknown (no $file)}': the set-up installs packages on Debian 12 (bookworm) and 13 (trixie) only. Elsewhere install by hand a C++17 compiler, CMake >= 3.18, Ninja, LibTorch >= 1.13 (C++), OpenBLAS, yaml-cpp, fmt, GoogleTest, zlib, optionally OpenCV (CIFAR JPEGs) and gnuplot, then rerun with MODNET_SKIP_APT=1 (and MODNET_CMAKE_ARGS=-DCMAKE_PREFIX_PATH=<libtorch> if needed)" >&2
  return 1
}

# Install the missing Debian packages; silent when all are present.
modnet_install_deps() {
  if [[ ${MODNET_SKIP_APT:-0} == 1 ]]; then
    modnet_log "MODNET_SKIP_APT=1: not checking Debian packages"
    return 0
  fi
  local release
  release="$(modnet_debian_release)" || exit 1
  local missing=() p status
  for p in "${MODNET_PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
    [[ $status == "install ok installed" ]] || missing+=("$p")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    modnet_check_torch_version "$release"
    return 0
  fi

  modnet_log "Debian $release: installing missing packages: ${missing[*]}"
  local updated=0 fresh
  # Refresh the package lists when there are none or none from the last day.
  fresh="$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null || true)"
  if [[ -z $fresh ]]; then
    modnet_as_root apt-get update
    updated=1
  fi
  local install=(env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends)
  if ! modnet_as_root "${install[@]}" "${missing[@]}"; then
    # Lists from today can still name versions the mirror no longer has: refresh once and retry.
    [[ $updated == 1 ]] && modnet_die "apt-get install failed for: ${missing[*]}"
    modnet_as_root apt-get update
    modnet_as_root "${install[@]}" "${missing[@]}" || modnet_die "apt-get install failed for: ${missing[*]}"
  fi
  modnet_check_torch_version "$release"
}

# Warn when libtorch-dev is not the version the release is known to ship (a backport, a pinned
# or a local build): modnet is tested against 1.13 and 2.6.
modnet_check_torch_version() {
  local version expected="${MODNET_TORCH_SERIES[$1]}"
  version="$(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || true)"
  [[ $version == "$expected".* ]] \
    || modnet_log "warning: libtorch-dev ${version:-?} on $1, where $expected is expected (modnet is tested against 1.13 and 2.6)"
}

# Point libblas.so.3 (and liblapack.so.3) at OpenBLAS (pthread) when it is installed.
modnet_ensure_openblas() {
  command -v update-alternatives >/dev/null 2>&1 || return 0
  local lib name target current
  for lib in libblas.so.3 liblapack.so.3; do
    name="$(update-alternatives --get-selections 2>/dev/null | awk -v l="$lib-" 'index($1, l) == 1 { print $1; exit }' || true)"
    if [[ -z $name ]]; then
      [[ $lib == libblas.so.3 && ${MODNET_SKIP_APT:-0} != 1 ]] && modnet_log "warning: no $lib alternative registered"
      continue
    fi
    target="$(update-alternatives --list "$name" 2>/dev/null | grep -m1 '/openblas-pthread/' || true)"
    if [[ -z $target ]]; then
      [[ $lib == libblas.so.3 ]] && modnet_log "warning: $name has no openblas-pthread choice (install libopenblas0-pthread)"
      continue
    fi
    current="$(update-alternatives --query "$name" 2>/dev/null | awk '/^Value:/ { print $2; exit }' || true)"
    if [[ $current != "$target" ]]; then
      modnet_log "setting $name -> $target (was ${current:-none})"
      modnet_as_root update-alternatives --set "$name" "$target" >/dev/null
    fi
  done
}

modnet_setup_ccache() {
  export CCACHE_DIR="${CCACHE_DIR:-${HOME:-/root}/.cache/ccache}"
  command -v ccache >/dev/null 2>&1 || return 0
  mkdir -p "$CCACHE_DIR"
  if ! grep -qs '^max_size' "$CCACHE_DIR/ccache.conf"; then
    ccache --max-size "${MODNET_CCACHE_SIZE:-5G}" >/dev/null
  fi
}

# Unpack ../shared/data/cifar10-jpeg.tar.gz into data/cifar10-jpeg/ once (data/ is git-ignored).
modnet_unpack_cifar() {
  local archive="$MODNET_SHARED_DIR/data/cifar10-jpeg.tar.gz"
  local dest="$MODNET_REPO/data/cifar10-jpeg"
  [[ -d $dest ]] && return 0
  if [[ ! -f $archive ]]; then
    modnet_log "no $archive: skipping CIFAR-10 unpack (CIFAR tests/configs need data/cifar10-jpeg/)"
    return 0
  fi
  mkdir -p "$MODNET_REPO/data"
  local tmp t0=$SECONDS
  tmp="$(mktemp -d "$MODNET_REPO/data/.cifar10-unpack.XXXXXX")"
  modnet_log "unpacking $(basename "$archive") into data/ ..."
  if ! tar -xzf "$archive" -C "$tmp" || [[ ! -d $tmp/cifar10-jpeg/train || ! -d $tmp/cifar10-jpeg/test ]]; then
    rm -rf "$tmp"
    modnet_die "could not unpack $archive (expected cifar10-jpeg/{train,test}/ inside)"
  fi
  mv "$tmp/cifar10-jpeg" "$dest"   # rename: never a half-unpacked data/cifar10-jpeg
  rmdir "$tmp"
  modnet_log "CIFAR-10 unpacked to data/cifar10-jpeg/ in $((SECONDS - t0)) s"
}

# Everything before the build. One line when nothing had to be done.
modnet_setup() {
  local t0=$SECONDS
  modnet_install_deps
  modnet_ensure_openblas
  modnet_setup_ccache
  modnet_unpack_cifar
  modnet_log "setup ok (${#MODNET_PACKAGES[@]} packages checked; CCACHE_DIR=$CCACHE_DIR)"
  modnet_log "setup wall time: $((SECONDS - t0)) s"
}

# CMake truth values compared as ON/OFF; anything else unchanged.
modnet_cmake_bool() {
  case "${1^^}" in
    ON | TRUE | YES | Y | 1) echo ON ;;
    OFF | FALSE | NO | N | 0) echo OFF ;;
    *) echo "$1" ;;
  esac
}

# Configure (only when the build folder has no build system yet, or when a -DNAME=VALUE
# argument differs from the cache) and build with all cores.
# Arguments: cmake -D options, e.g. modnet_build -DMODNET_BUILD_TESTS=ON
modnet_build() {
  local build="$MODNET_BUILD_DIR" cache="$MODNET_BUILD_DIR/CMakeCache.txt"
  local extra=()
  [[ -n ${MODNET_CMAKE_ARGS:-} ]] && read -r -a extra <<<"$MODNET_CMAKE_ARGS"
  if [[ ! -f $build/build.ninja && ! -f $build/Makefile ]]; then
    local gen=()
    if [[ ! -f $cache ]]; then  # a cache keeps its generator; -G would clash with it
      if [[ -n ${CMAKE_GENERATOR:-} ]]; then gen=(-G "$CMAKE_GENERATOR")
      elif command -v ninja >/dev/null 2>&1; then gen=(-G Ninja)
      else gen=(-G "Unix Makefiles"); fi
    fi
    modnet_log "configuring $build"
    cmake -S "$MODNET_REPO" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" "$@"
  else
    local arg kv name value cached reconf=0
    for arg in "$@"; do
      [[ $arg == -D*=* ]] || continue
      kv="${arg#-D}"; name="${kv%%=*}"; value="${kv#*=}"; name="${name%%:*}"
      cached="$(awk -v n="$name" 'index($0, n ":") == 1 { sub(/^[^=]*=/, ""); print; exit }' "$cache" 2>/dev/null || true)"
      [[ $(modnet_cmake_bool "$cached") == "$(modnet_cmake_bool "$value")" ]] || reconf=1
    done
    if [[ $reconf == 1 ]]; then
      modnet_log "reconfiguring $build with $*"
      cmake -S "$MODNET_REPO" -B "$build" "$@"
    fi
  fi
  local t0=$SECONDS
  cmake --build "$build" -j"$(nproc)"
  modnet_log "build wall time: $((SECONDS - t0)) s"
}

# Run directly: set-up only.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  set -euo pipefail
  modnet_setup
fi
