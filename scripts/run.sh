#!/usr/bin/env bash
# The main job: install what is missing, build, train the three sine-wave methods
# (monolithic, modular baseline, kernel-initialised modular) and report a table and a figure.
#
#   scripts/run.sh [key.sub=value ...]   overrides are passed to every modnet-train call
#
# Environment: MODNET_OUT (default <repo>/runs/main; a relative path is taken from the
# current directory), MODNET_SEEDS (default "0 1 2"), plus those of scripts/setup.sh.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

for arg in "$@"; do
  if [[ $arg == -h || $arg == --help ]]; then
    sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit 0
  fi
  [[ $arg =~ ^[A-Za-z_][A-Za-z0-9_.-]*= ]] \
    || modnet_die "'$arg' is not an override of the form key.sub=value (see scripts/run.sh --help)"
done

start=$SECONDS
report_time() { echo "[modnet] run.sh total wall time: $((SECONDS - start)) s"; }
trap report_time EXIT

OUT="${MODNET_OUT:-}"
if [[ -z $OUT ]]; then OUT="$MODNET_REPO/runs/main"
elif [[ $OUT != /* ]]; then OUT="$PWD/$OUT"; fi

modnet_setup
# shellcheck disable=SC2119  # no -D options: keep the configured ones
modnet_build  # default options (tests as configured; ON on a first configure)

cd "$MODNET_REPO"   # configs name their data relative to the repository root
bin="$MODNET_BUILD_DIR/bin"
[[ -x $bin/modnet-train ]] || modnet_die "$bin/modnet-train was not built"
mkdir -p "$OUT"

job_start=$SECONDS
ran=() failed=()
read -r -a seeds <<<"${MODNET_SEEDS:-0 1 2}"
for method in monolithic modular kernel_modular; do
  config="configs/sine/$method.yaml"
  if [[ ! -f $config ]]; then
    modnet_log "no $config: skipping $method"
    continue
  fi
  for seed in "${seeds[@]}"; do
    run="$OUT/$method/seed$seed"
    modnet_log "training $method (seed $seed) -> $run"
    t0=$SECONDS
    if "$bin/modnet-train" --config "$config" seed="$seed" "$@" --out "$run" --force; then
      ran+=("$method/seed$seed")
      modnet_log "$method (seed $seed) done in $((SECONDS - t0)) s"
    else
      failed+=("$method/seed$seed")
      modnet_log "$method (seed $seed) FAILED after $((SECONDS - t0)) s"
    fi
  done
done

[[ ${#ran[@]} -gt 0 || ${#failed[@]} -gt 0 ]] || modnet_die "no configs/sine/{monolithic,modular,kernel_modular}.yaml found"

if [[ ${#ran[@]} -gt 0 ]]; then
  if [[ -x $bin/modnet-report ]]; then
    "$bin/modnet-report" --runs "$OUT"
  else
    modnet_log "no modnet-report built yet; runs are in $OUT/{${ran[*]}}"
  fi
fi

modnet_log "main job wall time: $((SECONDS - job_start)) s"
[[ ${#failed[@]} -eq 0 ]] || modnet_die "training failed for: ${failed[*]}"
modnet_log "results in $OUT"
