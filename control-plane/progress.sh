# Progress for the long steps of build.sh, sourced by it (and by testenv's test of it).
#
# with_progress LABEL UNIT PATTERN COMMAND...
#   Runs COMMAND, reading its stderr: each line matching the extended regular expression
#   PATTERN counts as one UNIT done (for `go build -v`, a package path; for
#   `go mod download -x`, a finished fetch); other lines starting with "# " (go's own trace)
#   are dropped, and every other line (compiler errors, warnings) is passed through to stderr. Every ${ORK_PROGRESS_EVERY:-15} seconds it prints
#   "[control-plane]     LABEL: 2m05s, 312 packages" so a long build is never silent, and once
#   more when COMMAND ends. Returns COMMAND's exit status.
with_progress() {
  local label=$1 unit=$2 pattern=$3
  shift 3
  local every=${ORK_PROGRESS_EVERY:-15} t0 dir ticker rc
  t0=$(date +%s)
  dir=$(mktemp -d)
  echo 0 >"$dir/count"
  report() {
    local s n
    s=$(( $(date +%s) - t0 ))
    n=$(cat "$dir/count" 2>/dev/null)
    printf '[control-plane]     %s: %dm%02ds, %s %s\n' "$label" $(( s / 60 )) $(( s % 60 )) \
      "${n:-…}" "$unit" >&2
  }
  ( while sleep "$every"; do report; done ) &
  ticker=$!
  # The command's status goes through a file: a pipeline's status is its last command's, and
  # `a && b || c` keeps a caller's `set -e` from exiting before the ticker is stopped.
  # A shell loop reads the output, not awk: mawk reads a pipe in large blocks, which would
  # hold the count back.
  { "$@" 2>&1 >/dev/null && echo 0 >"$dir/rc" || echo $? >"$dir/rc"; } | {
    n=0
    while IFS= read -r line; do
      if [[ $line =~ $pattern ]]; then
        n=$(( n + 1 ))
        echo "$n" >"$dir/count.new" && mv -f "$dir/count.new" "$dir/count"
      elif [[ $line != '# '* ]]; then
        printf '%s\n' "$line" >&2
      fi
    done
  }
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  report
  rc=$(cat "$dir/rc")
  rm -rf "$dir"
  return "$rc"
}
