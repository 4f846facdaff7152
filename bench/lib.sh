# Timing helpers shared by the bench scripts (sourced, not run). The caller sets `work` (a
# scratch directory), `runs` and `warmup`.

# time_runs NAME CMD...: RUNS timed runs after WARMUP, one figure (ms) per line in
# $work/NAME.times; stops with the command's stderr when a run fails.
time_runs() {
  local name=$1
  shift
  : >"$work/$name.times"
  for ((i = 0; i < warmup + runs; i++)); do
    local start=$EPOCHREALTIME
    "$@" >/dev/null 2>"$work/err" || { echo "$name failed:" >&2; cat "$work/err" >&2; return 1; }
    local end=$EPOCHREALTIME
    ((i < warmup)) || echo "$start $end" | awk '{printf "%.3f\n", ($2 - $1) * 1000}' >>"$work/$name.times"
  done
}

# median_of FILE: the median of the numbers in FILE, one per line.
median_of() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# median NAME: the median of $work/NAME.times.
median() { median_of "$work/$1.times"; }

# summary NAME [BASE]: a row "NAME median min max", and median/BASE when BASE is given.
summary() {
  sort -n "$work/$1.times" | awk -v name="$1" -v base="${2:-0}" '
    {a[NR] = $1}
    END {
      med = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
      printf "%-14s %10.2f %10.2f %10.2f", name, med, a[1], a[NR]
      if (base > 0) printf " %11.2fx", med / base
      printf "\n"
    }'
}
