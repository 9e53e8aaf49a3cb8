#!/usr/bin/env bash
# A longer fault campaign than the system test's, on the same namespace testbed (3 nodes, group Dummy +
# IPaddr2 through the witness agents): SCHEDULES faults in turn (SIGSTOP/SIGCONT, packet loss, partition,
# asymmetric partition, power loss of a node; netem delay where the kernel has sch_netem), each healed and
# followed by the recovery checks, then the side channel is checked for double activity.
# --holder-faults also pauses, partitions or degrades (loss) the node holding the group: without fencing or a lease this
# can run the group twice, which the campaign then reports.
# --nodes 2: a two-node cluster without a witness (faults of either node split it); with the default --fencing off it is
# configured as seed 001 (stonith-enabled=false, no-quorum-policy=ignore), so splits show up as double-activity windows
# (reported: count, total and longest); --fencing agent fences through the testbed's power switch (fence_vtb,
# priority-fencing-delay=2s) and powers fenced nodes on again. --fencing agent|lease also works with 3 or more nodes.
# The exit code is 1 when the side channel saw double activity (expected with --nodes 2 --fencing off, and with --holder-faults without fencing).
# Needs root. Usage: bench/campaign.sh [--schedules N] [--seed S] [--holder-faults] [--nodes N] [--fencing off|agent|lease]
# Last line: schedules=… seed=… double_active=… double_active_total_s=… double_active_max_s=… fenced=… recovered_max_s=…
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "campaign.sh: needs root (it creates network namespaces); run it as root" >&2; exit 77; fi
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
missing=$(vigil_missing_packages resource-agents iproute2 iputils-ping nftables util-linux)
if [ -n "$missing" ]; then
    echo "campaign.sh: these Debian packages are missing: $missing (apt-get install -y --no-install-recommends $missing); this script installs nothing" >&2
    exit 69
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build bench/Vigil.Testbed -c Release -nologo -v:q >/dev/null
exec dotnet bench/Vigil.Testbed/bin/Release/net10.0/vigil-testbed.dll campaign "$@" </dev/null
