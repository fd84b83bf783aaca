#!/usr/bin/env bash
# Self-test of scripts/check-layering.sh on small fixture trees, so that a broken check (one that
# passes everything) fails here instead of passing silently.
#
#   tests/layering_selftest.sh [path/to/check-layering.sh]
set -uo pipefail

check="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/scripts/check-layering.sh}"
if [[ ! -f "$check" ]]; then
  echo "layering_selftest: no check script at '$check'" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/modnet-layering-selftest.XXXXXX")" || exit 1
trap 'rm -rf -- "$tmp"' EXIT

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# put ROOT PATH LINE...: writes a fixture file, one argument per line
put() {
  local root="$1" path="$2"
  shift 2
  mkdir -p "$(dirname "$root/$path")"
  printf '%s\n' "$@" >"$root/$path"
}

# run_check NAME ROOT EXPECTED_RC: runs the check on ROOT, keeps its output in $out
run_check() {
  local name="$1" root="$2" want="$3" rc
  out="$(bash "$check" "$root" 2>&1)"
  rc=$?
  echo "---- $name (exit $rc, want $want)"
  echo "$out"
  [[ $rc -eq $want ]] || fail "$name: exit $rc, want $want"
}
expect() {   # expect NAME TEXT: the last output names TEXT
  grep -qF -- "$2" <<<"$out" || fail "$1: output does not name '$2'"
}
expect_not() {   # expect_not NAME TEXT: the last output does not name TEXT
  if grep -qF -- "$2" <<<"$out"; then fail "$1: output wrongly names '$2'"; fi
}

# ---- a clean tree: downward includes, own-folder includes, system headers, commented-out includes
clean="$tmp/clean"
put "$clean" modnet/core/config.h '#pragma once' '#include <string>'
put "$clean" modnet/core/config.cpp '#include "modnet/core/config.h"'
put "$clean" modnet/data/task.h '#pragma once' '#include "modnet/core/config.h"' '#include <torch/torch.h>'
put "$clean" modnet/models/registry.h '#pragma once' \
  '#include <modnet/core/config.h>' \
  '#include "modnet/models/mlp.h"' \
  '// #include "modnet/data/task.h"   (a comment, not an include)' \
  '/* #include "modnet/train/trainer.h"' \
  '   #include "modnet/run/experiment.h" */' \
  '// a path with a glob: <class>/*.png must not open a block comment' \
  'const char* s = "/* not a comment";'
put "$clean" modnet/models/mlp.h '#pragma once' '#include "modnet/core/config.h"'
put "$clean" modnet/init/kernel_init.cpp '#include "modnet/models/registry.h"' '  #  include "modnet/data/task.h"'
put "$clean" modnet/train/trainer.h '#pragma once' '#include "../init/kernel_init.h"' '#include "trainer_detail.h"'
put "$clean" modnet/train/trainer_detail.h '#pragma once'
put "$clean" modnet/run/experiment.cpp '#include "modnet/train/trainer.h"' '#include "modnet/theory/spectrum.h"'
put "$clean" modnet/bench/bench.cpp '#include "modnet/run/experiment.h"' '#include "modnet/core/config.h"'
put "$clean" modnet/bench/empty.h
put "$clean" modnet/CMakeLists.txt '# not a source file: #include "modnet/bench/bench.h"'
run_check clean "$clean" 0
expect clean "OK"
expect_not clean ": models (layer"
expect_not clean "FAILED"

# ---- violations: a lower layer including a higher one, a same-layer include, a relative dodge
bad="$tmp/bad"
cp -r "$clean" "$bad"
put "$bad" modnet/core/log.h '#pragma once' '#include <string>' '#include "modnet/train/trainer.h"'
put "$bad" modnet/models/registry.h '#pragma once' '#include <torch/torch.h>' '' \
  '#include "modnet/core/config.h"' '#include <modnet/data/task.h>'
put "$bad" modnet/analysis/report.cpp '#include "../init/kernel_init.h"' '#include "../theory/losses.h"'
run_check violations "$bad" 1
expect violations "modnet/core/log.h:3: core (layer 0) includes modnet/train/trainer.h (train, layer 3)"
expect violations "modnet/models/registry.h:5: models (layer 1) includes modnet/data/task.h (data, layer 1)"
expect violations "modnet/analysis/report.cpp:1: analysis (layer 2) includes modnet/init/kernel_init.h (init, layer 2)"
expect violations "3 violation(s)"
expect_not violations "modnet/models/registry.h:4:"
expect_not violations "modnet/analysis/report.cpp:2:"
expect_not violations "modnet/init/kernel_init.cpp"

# ---- a folder missing from the table, and an include of one
unknown="$tmp/unknown"
cp -r "$clean" "$unknown"
put "$unknown" modnet/extra/thing.h '#pragma once' '#include "modnet/core/config.h"'
put "$unknown" modnet/train/uses_extra.cpp '#include "modnet/extra/thing.h"'
run_check unknown_folder "$unknown" 1
expect unknown_folder 'folder "extra" is not in the layer table'
expect unknown_folder "modnet/train/uses_extra.cpp:1:"

# ---- a file directly in modnet/ belongs to no layer
toplevel="$tmp/toplevel"
cp -r "$clean" "$toplevel"
put "$toplevel" modnet/modnet.h '#include "modnet/core/config.h"'
run_check top_level_file "$toplevel" 1
expect top_level_file "modnet/modnet.h: not in a layer folder"

# ---- misuse: no modnet/ folder at all must not pass
run_check no_tree "$tmp/nowhere" 2

if [[ $failures -ne 0 ]]; then
  echo "layering_selftest: $failures failure(s)"
  exit 1
fi
echo "layering_selftest: all checks passed"
