#!/usr/bin/env bash
# Power-loss failover, Vigil against Pacemaker, in the same run on the same testbed layout: N nodes as
# network namespaces on one machine (a bridge namespace with a client at 10.250.0.254, veths, addresses
# from 10.250.0.0/24 only inside the namespaces), a group Dummy + IPaddr2 10.250.0.100, and REPS times
# the node holding the group loses power (bridge port down + kill -9 of everything in its namespace).
# Measured: the time from the power loss until the floating IP answers the client's 50 ms ping again.
#   Vigil:     bench/Vigil.Testbed (the testbed of test/Vigil.System.Tests), which also checks the
#              start/stop side channel of its witness agents for double activity.
#   Pacemaker: Corosync 3 + Pacemaker 2.1.5 from Debian, through ../shared/anchors/pacemaker-failover/
#              pcmk_failover.sh (called, not copied; VTB_PCMK_ANCHOR overrides its path).
# Needs root; installs nothing (it names the Debian packages that are missing).
# Usage: bench/failover.sh [--reps N] [--nodes 2|3] [--fencing off|agent|lease] [--lease DURATION] [--lease-rounds|--no-lease-rounds]   (the lease: stonith-watchdog-timeout, default 2s;
#        --no-lease-rounds: the nodes' settings turn lease rounds off (on by default), leaseRounds in the README)
# Last line: vigil_median_s=… pacemaker_median_s=… ratio=… double_active=…   (ratio = vigil / pacemaker)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

reps=10 nodes=3 fencing=off lease=2s rounds=
while [ $# -gt 0 ]; do
    case "$1" in
        --reps) reps=${2:-}; shift 2 || true ;;
        --nodes) nodes=${2:-}; shift 2 || true ;;
        --fencing) fencing=${2:-}; shift 2 || true ;;
        --lease) lease=${2:-}; shift 2 || true ;;
        --lease-rounds|--no-lease-rounds) rounds=$1; shift ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "failover.sh: unknown argument '$1'; usage: bench/failover.sh [--reps N] [--nodes 2|3] [--fencing off|agent|lease] [--lease DURATION] [--lease-rounds|--no-lease-rounds]" >&2; exit 64 ;;
    esac
done
case "$reps" in ''|*[!0-9]*) echo "failover.sh: --reps needs a number from 1 to 100, not '$reps'" >&2; exit 64 ;; esac
if [ "$reps" -lt 1 ] || [ "$reps" -gt 100 ]; then echo "failover.sh: --reps must be between 1 and 100" >&2; exit 64; fi
case "$nodes" in 2|3) ;; *) echo "failover.sh: --nodes must be 2 or 3, not '$nodes'" >&2; exit 64 ;; esac
# The lease's range (0.5-60 s) is checked by vigil-testbed; here only its form, before anything runs.
if ! [[ "$lease" =~ ^[0-9]+(\.[0-9]+)?(ms|s)?$ ]]; then echo "failover.sh: --lease needs a duration such as 2s, 1.5s or 1500ms, not '$lease'" >&2; exit 64; fi
case "$fencing" in
    off|agent|lease) ;;   # Vigil: agent = the testbed's power switch as a fence device (fence_vtb), lease = stonith-watchdog-timeout (--lease, 2s); Pacemaker always runs with its defaults (fencing off)
    *) echo "failover.sh: --fencing must be off, agent or lease, not '$fencing'" >&2; exit 64 ;;
esac
if [ "$nodes" = 2 ] && [ "$fencing" = lease ]; then
    echo "failover.sh: --nodes 2 --fencing lease: lease self-fencing needs a majority that waits out the lease; two nodes without a witness have none (use --fencing off, as seed 001, or agent)" >&2
    exit 64
fi
if [ "$(id -u)" -ne 0 ]; then echo "failover.sh: needs root (it creates network namespaces); run it as root" >&2; exit 77; fi

# shellcheck source=scripts/deps.sh
source scripts/deps.sh
missing=$(vigil_missing_packages corosync pacemaker pacemaker-cli-utils resource-agents iproute2 iputils-ping util-linux procps bc)
if [ -n "$missing" ]; then
    echo "failover.sh: these Debian packages are missing: $missing" >&2
    echo "failover.sh: install them (apt-get install -y --no-install-recommends $missing) and run again; this script installs nothing" >&2
    exit 69
fi
anchor=${VTB_PCMK_ANCHOR:-$repo/../shared/anchors/pacemaker-failover/pcmk_failover.sh}
if [ ! -r "$anchor" ]; then echo "failover.sh: the Pacemaker anchor script is not at $anchor (set VTB_PCMK_ANCHOR)" >&2; exit 66; fi
command -v dotnet >/dev/null || { echo "failover.sh: the .NET SDK (dotnet) is missing" >&2; exit 69; }

work=$(mktemp -d -t vtb-failover.XXXXXX)
nsp=vtbpk$$          # the anchor's namespace prefix: vtbpk<pid>-br, -n1.. (never the pk-* of someone else's run)
cleanup() {
    NSP=$nsp BASE=$work/pcmk bash "$anchor" teardown >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
echo "== building bench/Vigil.Testbed (Release)"
dotnet build bench/Vigil.Testbed -c Release -nologo -v:q >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 70; }

echo "== publishing the shipped binary (Native AOT), which the nodes run"
bash scripts/publish.sh "$work/native" >"$work/publish.log" 2>&1 || { cat "$work/publish.log" >&2; exit 70; }
export VIGIL_BINARY=$work/native/vigil
echo "== Vigil (fencing $fencing): $nodes nodes, $reps power losses ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
dotnet bench/Vigil.Testbed/bin/Release/net10.0/vigil-testbed.dll failover --reps "$reps" --nodes "$nodes" --fencing "$fencing" --lease "$lease" $rounds </dev/null 2>&1 | tee "$work/vigil.out" ||
    { echo "failover.sh: the Vigil run failed (output above)" >&2; exit 1; }
vline=$(grep '^vigil_median_s=' "$work/vigil.out" | tail -1)
vigil_median=$(sed -n 's/.*vigil_median_s=\([0-9.]*\).*/\1/p' <<<"$vline")
double_active=$(sed -n 's/.*double_active=\([0-9]*\).*/\1/p' <<<"$vline")
[ -n "$vigil_median" ] || { echo "failover.sh: no result line from the Vigil run" >&2; exit 1; }

echo "== Pacemaker 2.1.5 + Corosync 3 (Debian defaults, stonith-enabled=false): $nodes nodes, $reps power losses ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))"
mkdir -p "$work/pcmk"
NSP=$nsp BASE=$work/pcmk bash "$anchor" run -c default -n "$nodes" -r "$reps" -m 0 -f 1 -o "$work/pcmk/out" </dev/null 2>&1 | tee "$work/pcmk.out" || true
pline=$(grep -E '^ +PING_first_reply ' "$work/pcmk.out" | tail -1 || true)
pcmk_median=$(sed -n 's/.*median=\([0-9.]*\).*/\1/p' <<<"$pline")
pcmk_n=$(sed -n 's/.* n=\([0-9]*\).*/\1/p' <<<"$pline")
[ -n "$pcmk_median" ] || { echo "failover.sh: no PING_first_reply summary from the Pacemaker run (output above)" >&2; exit 1; }

ratio=$(awk -v v="$vigil_median" -v p="$pcmk_median" 'BEGIN { printf "%.3f", v / p }')
echo
echo "vigil: median $vigil_median s (n=$reps); pacemaker: median $pcmk_median s (n=${pcmk_n:-?}); goal: ratio <= 0.200"
echo "vigil_median_s=$vigil_median pacemaker_median_s=$pcmk_median ratio=$ratio double_active=$double_active"
