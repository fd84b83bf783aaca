#!/usr/bin/env bash
# The bare-machine check: run a command of this project on a freshly bootstrapped Debian.
#
#   scripts/fresh-debian.sh [--keep] RELEASE [COMMAND ...]
#
# RELEASE is bookworm (Debian 12) or trixie (Debian 13). Builds a minimal chroot with debootstrap
# (variant minbase: no compiler, cmake, git or CA certificates, as a bare machine), from the
# Debian mirror named in this machine's apt sources; copies a clean clone of the committed
# project (HEAD) to /work/modnet in it and ../shared to /work/shared beside it; runs COMMAND
# there as root (default: scripts/test.sh), and prints the wall time of each phase. The log is
# kept in chroots/RELEASE-STAMP.log; the chroot is removed afterwards unless --keep is given.
#
# Needs root (debootstrap, mount, chroot) and network access to the mirror; takes 20-40 min on
# 2 cores. Not part of CI.
#
# Environment: MODNET_CHROOTS (default <repo>/chroots, git-ignored), MODNET_DEBIAN_MIRROR
# (default: the first Debian archive in /etc/apt/sources{.list,.list.d/*}), MODNET_SHARED_DIR
# (default <repo>/../shared).
# The whole script is one block, read before it runs: editing this file (or checking out another
# commit) while a run is under way cannot change what the run does.
{
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "fresh-debian: error: $*" >&2; exit 2; }
log() { echo "[fresh-debian] $*"; }

keep=0
while [[ ${1:-} == -* ]]; do
  case $1 in
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option '$1' (expected --keep or --help)" ;;
  esac
done
[[ $# -ge 1 ]] || die "no RELEASE given: usage: scripts/fresh-debian.sh [--keep] bookworm|trixie [COMMAND ...]"
release=$1; shift
case $release in
  bookworm | trixie) ;;
  *) die "unknown release '$release': expected bookworm (Debian 12) or trixie (Debian 13)" ;;
esac
command_line="${*:-scripts/test.sh}"
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap, mount and chroot): run it as root, e.g. sudo scripts/fresh-debian.sh $release"
shared="${MODNET_SHARED_DIR:-$repo/../shared}"
[[ -d $shared ]] || die "no shared folder at $shared (set MODNET_SHARED_DIR)"
git -C "$repo" rev-parse --verify -q HEAD >/dev/null || die "$repo is not a git checkout with a commit (a clean clone of HEAD is what is tested)"

# The Debian archive this machine installs from: deb822 .sources stanzas, then one-line lists.
find_mirror() {
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    uri="$(awk 'BEGIN { RS = ""; FS = "\n" }
      { uris = ""; enabled = 1
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^URIs:/) { uris = $i; sub(/^URIs:[ \t]*/, "", uris) }
          if ($i ~ /^Enabled:[ \t]*no/) enabled = 0 }
        n = split(uris, u, /[ \t]+/)
        for (j = 1; j <= n; j++) if (enabled && u[j] ~ /\/debian\/?$/) { print u[j]; exit } }' "$f")"
    [[ -n $uri ]] && { echo "${uri%/}"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    uri="$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { if ($i ~ /\/debian\/?$/) { print $i; exit } break } }' "$f")"
    [[ -n $uri ]] && { echo "${uri%/}"; return; }
  done
}
mirror="${MODNET_DEBIAN_MIRROR:-$(find_mirror)}"
if [[ -z $mirror ]]; then
  mirror=http://deb.debian.org/debian
  log "no Debian archive found in this machine's apt sources; using $mirror"
fi

if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends debootstrap >/dev/null \
    || die "debootstrap is not installed and apt-get could not install it"
fi
[[ -f /usr/share/debootstrap/scripts/$release ]] || die "this debootstrap ($(debootstrap --version 2>/dev/null || echo '?')) does not know '$release'; update it"

chroots="${MODNET_CHROOTS:-$repo/chroots}"
mkdir -p "$chroots/cache/$release"
chroots="$(cd "$chroots" && pwd)"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
name="$release-$stamp"
root="$chroots/$name"
logfile="$chroots/$name.log"
[[ ! -e $root ]] || die "$root already exists"
mkdir "$root"

mounted=()
cleanup() {
  local status=$? i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
  done
  if [[ $keep == 0 && -d $root ]]; then
    if grep -q " $root/" /proc/mounts; then
      echo "[fresh-debian] warning: something is still mounted under $root; not removing it" >&2
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mount_into() {  # mount_into TARGET mount-arguments...
  local target="$root$1"; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounted+=("$target")
}

exec > >(tee -a "$logfile") 2>&1
commit="$(git -C "$repo" rev-parse --short HEAD)"
log "release $release, mirror $mirror, commit $commit, chroot $root"
log "log: $logfile"
[[ -z $(git -C "$repo" status --porcelain --untracked-files=no) ]] \
  || log "note: the work tree has uncommitted changes; they are not in the clean clone"

t0=$SECONDS
debootstrap --variant=minbase --cache-dir="$chroots/cache/$release" "$release" "$root" "$mirror" \
  >"$root.debootstrap.log" 2>&1 || { tail -20 "$root.debootstrap.log"; die "debootstrap $release failed (full log: $root.debootstrap.log)"; }
rm -f "$root.debootstrap.log"
t_boot=$((SECONDS - t0))
printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$release" "$mirror" "$release" >"$root/etc/apt/sources.list"
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
log "debootstrap: $t_boot s"

t0=$SECONDS
mkdir -p "$root/work"
git clone --quiet --no-hardlinks "$repo" "$root/work/modnet"
git -C "$root/work/modnet" checkout --quiet --detach "$commit"
mkdir -p "$root/work/shared"
cp -a "$shared/." "$root/work/shared/"
log "copy of the clean clone and shared/: $((SECONDS - t0)) s"

mount_into /proc -t proc proc
mount_into /sys -t sysfs sysfs
mount_into /dev --bind /dev
mount_into /dev/pts --bind /dev/pts
mount_into /dev/shm -t tmpfs tmpfs

log "running in the chroot: $command_line"
t0=$SECONDS
set +e
chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  /bin/bash -c "cd /work/modnet && $command_line"
status=$?
set -e
t_cmd=$((SECONDS - t0))

echo
log "summary ($release, commit $commit): exit status $status"
log "  debootstrap:       $t_boot s"
grep -aE '^\[modnet\] (setup|build|tests|main job|test\.sh total|run\.sh total) wall time' "$logfile" | sed 's/^/[fresh-debian]   /' || true
log "  command in total:  $t_cmd s ($command_line)"
log "log kept: $logfile"
[[ $keep == 1 ]] && log "chroot kept: $root (remove with: umount -R $root 2>/dev/null; rm -rf --one-file-system $root)"
exit "$status"
}
