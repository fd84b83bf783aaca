#!/usr/bin/env bash
# Checks that the library's folders include each other only downwards, by layer.
#
#   scripts/check-layering.sh [ROOT]      (ROOT: the repository root, default: this script's ../)
#
# A file in modnet/<folder>/ may include modnet/<other>/... only when <other> is in a strictly
# LOWER layer; files of its own folder are fine. Same-layer and upward includes are violations,
# and so is any folder (of a checked file, or named by an include) that the table below lacks.
# Prints one line per problem and a summary; exits 1 on any problem, 0 when clean, 2 on misuse.
# Needs only bash, find, sort and awk (mawk or gawk).

# ---- the layers, lowest first: "<layer> <folder> <folder> ..." (a new folder goes in here) ----
LAYERS=(
  "0 core"
  "1 data models theory"
  "2 init analysis dist"
  "3 train"
  "4 run"
  "5 bench"
)
# apps/ and tests/ sit above every layer and are not checked.
# -------------------------------------------------------------------------------------------------

set -euo pipefail

usage() { echo "usage: $0 [ROOT]   (checks ROOT/modnet; ROOT defaults to the repository root)" >&2; exit 2; }
[[ $# -le 1 ]] || usage
case "${1:-}" in -h | --help) usage ;; esac

ROOT="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
if [[ ! -d "$ROOT/modnet" ]]; then
  echo "check-layering: no modnet/ folder under '$ROOT'" >&2
  exit 2
fi

# The table as "folder=layer ..." for awk; a folder listed twice is an error of the table.
table=""
declare -A seen=()
for row in "${LAYERS[@]}"; do
  read -r layer folders <<<"$row"
  if [[ ! "$layer" =~ ^[0-9]+$ || -z "$folders" ]]; then
    echo "check-layering: bad row in the layer table: '$row'" >&2
    exit 2
  fi
  for f in $folders; do
    if [[ -n "${seen[$f]:-}" ]]; then
      echo "check-layering: folder '$f' is in the layer table twice (layers ${seen[$f]} and $layer)" >&2
      exit 2
    fi
    seen[$f]=$layer
    table+="$f=$layer "
  done
done

cd "$ROOT"
files=()
while IFS= read -r -d '' f; do files+=("$f"); done < <(
  find modnet -type f \( -name '*.h' -o -name '*.hpp' -o -name '*.cpp' -o -name '*.cc' -o -name '*.cu' \) -print0 |
    LC_ALL=C sort -z)
if [[ ${#files[@]} -eq 0 ]]; then
  echo "check-layering: OK - no source files under $ROOT/modnet"
  exit 0
fi

# One pass over all files. Skips // and /* */ comments; resolves "../x/y.h"-style quoted includes
# relative to the including file, so they cannot dodge the rule.
LC_ALL=C awk -v table="$table" -v script="scripts/check-layering.sh" '
function folder_of(path,    parts, n) {   # "modnet/<folder>/..." -> folder; "" when top-level
  n = split(path, parts, "/")
  return (n >= 3 && parts[1] == "modnet") ? parts[2] : ""
}
function normalise(path,    parts, n, i, out, m, s) {   # collapses "." and ".." components
  n = split(path, parts, "/"); m = 0
  for (i = 1; i <= n; i++) {
    if (parts[i] == "" || parts[i] == ".") continue
    if (parts[i] == "..") { if (m > 0) m--; continue }
    out[++m] = parts[i]
  }
  s = ""
  for (i = 1; i <= m; i++) s = s (i > 1 ? "/" : "") out[i]
  return s
}
function scan(s,    i, n, c, d) {   # follows /* */ state through one line (sets in_comment)
  n = length(s); i = 1
  while (i <= n) {
    c = substr(s, i, 2)
    if (in_comment) {
      if (c == "*/") { in_comment = 0; i += 2 } else i++
      continue
    }
    if (c == "//") return
    if (c == "/*") { in_comment = 1; i += 2; continue }
    c = substr(s, i, 1)
    if (c == "\"" || c == "\047") {   # a string or char literal: skip to its closing quote
      for (i++; i <= n; i++) {
        d = substr(s, i, 1)
        if (d == "\\") i++
        else if (d == c) break
      }
    }
    i++
  }
}
function problem(msg) { print msg; problems++ }
BEGIN {
  n = split(table, rows, " ")
  for (i = 1; i <= n; i++) { split(rows[i], kv, "="); layer[kv[1]] = kv[2] + 0 }
  problems = 0; violations = 0; unknown = 0; files = ARGC - 1
  for (i = 1; i < ARGC; i++) {   # every file (empty ones too) must sit in a folder of the table
    f = folder_of(ARGV[i])
    if (f == "") {
      problem(ARGV[i] ": not in a layer folder (move it into modnet/<folder>/, a folder of LAYERS in " script ")")
      unknown++
    } else if (!(f in layer) && !(f in reported)) {
      reported[f] = 1
      problem(ARGV[i] ": folder \"" f "\" is not in the layer table (add it to LAYERS in " script ")")
      unknown++
    }
  }
}
FNR == 1 {
  in_comment = 0
  src = folder_of(FILENAME)
  dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
}
{
  line = $0
  # Comments: an include inside /* ... */ does not count. Only lines that can open or close a
  # block comment are scanned (string and char literals and // comments skipped on the way).
  at_start_in_comment = in_comment
  if (in_comment || index(line, "/*") > 0) scan(line)
  if (at_start_in_comment || line !~ /^[ \t]*#[ \t]*include[ \t]*[<"]/) next

  target = line
  sub(/^[ \t]*#[ \t]*include[ \t]*/, "", target)
  quoted = (substr(target, 1, 1) == "\"")
  target = substr(target, 2)
  if (quoted) sub(/".*$/, "", target); else sub(/>.*$/, "", target)

  if (quoted && target ~ /^\.\.?\//) target = normalise(dir "/" target)
  if (target !~ /^modnet\//) next
  if (src == "" || !(src in layer)) next   # the file itself is already reported

  dst = folder_of(target)
  if (dst == "") {
    problem(FILENAME ":" FNR ": " src " (layer " layer[src] ") includes " target ", which is in no layer folder")
    unknown++
  } else if (!(dst in layer)) {
    problem(FILENAME ":" FNR ": " src " (layer " layer[src] ") includes " target \
            " (folder \"" dst "\" is not in the layer table)")
    unknown++
  } else if (dst != src && layer[dst] >= layer[src]) {
    problem(FILENAME ":" FNR ": " src " (layer " layer[src] ") includes " target " (" dst ", layer " layer[dst] ")")
    violations++
  }
}
END {
  if (problems == 0) {
    printf "check-layering: OK - %d files, no layering violations\n", files
    exit 0
  }
  printf "check-layering: FAILED - %d violation(s), %d unknown-folder error(s) in %d files\n", violations, unknown, files
  exit 1
}' "${files[@]}"
