#!/usr/bin/env bash
# The set-up scripts' answers to bad input and unsupported systems: one clear line on stderr,
# nothing on stdout, a non-zero exit — and, for setup.sh, the two supported Debian releases
# recognised from os-release (fixtures written here). Nothing here installs or bootstraps.
#
#   tests/scripts_selftest.sh [REPO]
set -uo pipefail
repo="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/modnet-scripts-selftest.XXXXXX")" || exit 1
chmod 755 "$tmp"
trap 'rm -rf -- "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# refuses NAME PATTERN COMMAND...: COMMAND exits non-zero, prints nothing on stdout and exactly one
# line on stderr, which matches PATTERN (an extended regex).
refuses() {
  local name="$1" pattern="$2" rc
  shift 2
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  local lines
  lines=$(wc -l <"$tmp/err")
  if [[ $rc -eq 0 ]]; then fail "$name: exit 0, expected non-zero"
  elif [[ -s $tmp/out ]]; then fail "$name: printed on stdout: $(head -3 "$tmp/out")"
  elif [[ $lines -ne 1 ]]; then fail "$name: $lines lines on stderr, expected one: $(head -5 "$tmp/err")"
  elif ! grep -Eq "$pattern" "$tmp/err"; then fail "$name: '$(cat "$tmp/err")' does not match /$pattern/"
  else echo "ok: $name: $(cat "$tmp/err")"
  fi
}

fresh="$repo/scripts/fresh-debian.sh"
refuses "fresh-debian without a release" 'no RELEASE given.*bookworm\|trixie' bash "$fresh"
refuses "fresh-debian with an unknown release" "unknown release 'sid': expected bookworm \(Debian 12\) or trixie \(Debian 13\)" bash "$fresh" sid
refuses "fresh-debian with an unknown option" "unknown option '--fast'" bash "$fresh" --fast trixie
# Without root: as root, drop to nobody (setpriv, util-linux) with a copy of the script nobody can read.
cp "$fresh" "$tmp/fresh-debian.sh" && chmod 755 "$tmp/fresh-debian.sh"
if [[ $(id -u) -ne 0 ]]; then
  refuses "fresh-debian without root" 'needs root' bash "$tmp/fresh-debian.sh" trixie
elif command -v setpriv >/dev/null 2>&1; then
  refuses "fresh-debian without root" 'needs root' \
    setpriv --reuid=65534 --regid=65534 --clear-groups env -i PATH=/usr/bin:/bin bash "$tmp/fresh-debian.sh" trixie
else
  fail "running as root and no setpriv to drop to an unprivileged user: cannot check the no-root refusal"
fi

gpu="$repo/scripts/gpu-check.sh"
refuses "gpu-check with an unknown mode" "unknown mode 'tests'" bash "$gpu" tests

# setup.sh: the release comes from os-release (MODNET_OS_RELEASE names a fixture).
os() { printf '%s\n' "$@" >"$tmp/os-release"; }
release_of() { MODNET_OS_RELEASE="$tmp/os-release" bash -c "source '$repo/scripts/setup.sh' && modnet_debian_release"; }
os 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"' 'ID=debian' 'VERSION_ID="12"' 'VERSION_CODENAME=bookworm'
[[ $(release_of 2>/dev/null) == bookworm ]] && echo "ok: Debian 12 is bookworm" || fail "Debian 12 not recognised: '$(release_of 2>&1)'"
os 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"' 'ID=debian' 'VERSION_ID="13"' 'VERSION_CODENAME=trixie'
[[ $(release_of 2>/dev/null) == trixie ]] && echo "ok: Debian 13 is trixie" || fail "Debian 13 not recognised: '$(release_of 2>&1)'"
os 'PRETTY_NAME="Ubuntu 24.04.1 LTS"' 'ID=ubuntu' 'ID_LIKE=debian' 'VERSION_CODENAME=noble'
refuses "setup.sh on Ubuntu" "unsupported system 'Ubuntu 24.04.1 LTS'.*install by hand.*LibTorch.*MODNET_SKIP_APT=1" \
  env MODNET_OS_RELEASE="$tmp/os-release" bash "$repo/scripts/setup.sh"
os 'PRETTY_NAME="Debian GNU/Linux 11 (bullseye)"' 'ID=debian' 'VERSION_ID="11"' 'VERSION_CODENAME=bullseye'
refuses "setup.sh on Debian 11" "unsupported system 'Debian GNU/Linux 11 \(bullseye\)'.*bookworm.*trixie" \
  env MODNET_OS_RELEASE="$tmp/os-release" bash "$repo/scripts/setup.sh"
refuses "setup.sh without os-release" "unsupported system 'unknown \(no $tmp/none\)'" \
  env MODNET_OS_RELEASE="$tmp/none" bash "$repo/scripts/setup.sh"

if [[ $failures -gt 0 ]]; then
  echo "scripts_selftest: $failures failure(s)"
  exit 1
fi
echo "scripts_selftest: all checks passed"
