#!/usr/bin/env bash
# Whole-process benchmark of the scheduler against Pacemaker's:
#   bench/scheduler.sh N M [SEED]
# generates a CIB of N primitives on M nodes with ../shared/conformance/cibgen.py (the repository is
# cloned next to shared/), then times `vigil simulate --xml F` and `crm_simulate -x F -R -Q` as whole
# processes (/usr/bin/time -v: wall clock, CPU time (user+system) and peak RSS), one after the other.
# vigil is the binary as shipped (scripts/publish.sh: self-contained, composite ReadyToRun; it is
# built first, about 2.5 minutes) and runs VIGIL_RUNS times (default 5): a run of 0.2 s varies by
# ±25 % on a shared machine, so its median counts; crm_simulate runs once. The last line is
# machine-readable (on a shared, loaded machine the CPU-time ratio is the steadier of the two):
#   vigil_s=… crm_simulate_s=… ratio=… vigil_peak_mb=… vigil_cpu_s=… crm_simulate_cpu_s=… cpu_ratio=…
# VIGIL (path to a vigil binary: no publish step) and SKIP_CRM=1 (skip crm_simulate, e.g. at
# N=10,000) are optional.
set -euo pipefail
N=${1:?usage: scheduler.sh N M [SEED]}
M=${2:?usage: scheduler.sh N M [SEED]}
SEED=${3:-1}
RUNS=${VIGIL_RUNS:-5}
case "$RUNS" in ''|*[!0-9]*|0) echo "scheduler.sh: VIGIL_RUNS must be a whole number of at least 1 (it is '$RUNS')" >&2; exit 64 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
gen="$repo/../shared/conformance/cibgen.py"
[ -f "$gen" ] || { echo "missing $gen (clone the repository next to shared/)" >&2; exit 66; }
work=$(mktemp -d /tmp/vigil-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cib="$work/cib-$N-$M-$SEED.xml"
python3 "$gen" -n "$N" -m "$M" --seed "$SEED" -o "$cib" >/dev/null

VIGIL=${VIGIL:-}
if [ -z "$VIGIL" ]; then
    VIGIL=$(bash "$repo/scripts/publish.sh" "$repo/dist/vigil")
fi

# run CMD...: prints "seconds peak_mb cpu_seconds" of one whole-process run
measure() {
    /usr/bin/time -v "$@" >/dev/null 2>"$work/time.txt" || { cat "$work/time.txt" >&2; return 1; }
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; wall = s }
                /User time \(seconds\)|System time \(seconds\)/ { cpu += $2 }
                /Maximum resident set size/ { rss = $2 / 1024 }
                END { printf "%.3f %.0f %.3f\n", wall, rss, cpu }' "$work/time.txt"
}

# The run with the median wall time gives all three figures.
for _ in $(seq "$RUNS"); do measure "$VIGIL" simulate --xml "$cib"; done > "$work/vigil-runs.txt"
read -r vs vmb vcpu < <(sort -n "$work/vigil-runs.txt" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }')
echo "vigil simulate: ${vs}s (CPU ${vcpu}s), peak ${vmb} MB, median of $RUNS runs (all: $(cut -d' ' -f1 "$work/vigil-runs.txt" | sort -n | paste -sd' ')) (N=$N M=$M seed=$SEED)"
if [ "${SKIP_CRM:-0}" = 1 ] || ! command -v crm_simulate >/dev/null; then
    cs=nan; ratio=nan; ccpu=nan; cpu_ratio=nan
else
    export CIB_shadow_dir="$work"
    read -r cs cmb ccpu < <(measure crm_simulate -x "$cib" -R -Q)
    echo "crm_simulate: ${cs}s (CPU ${ccpu}s), peak ${cmb} MB"
    ratio=$(awk -v a="$cs" -v b="$vs" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
    cpu_ratio=$(awk -v a="$ccpu" -v b="$vcpu" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
fi
echo "vigil_s=$vs crm_simulate_s=$cs ratio=$ratio vigil_peak_mb=$vmb vigil_cpu_s=$vcpu crm_simulate_cpu_s=$ccpu cpu_ratio=$cpu_ratio"
