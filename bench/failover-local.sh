#!/usr/bin/env bash
# Failover benchmark on 127.0.0.1 (no root): a 3-node cluster of real 'vigil daemon' processes;
# the node running a two-resource group is killed with SIGKILL ROUNDS times (default 20) and
# restarted after each round. Prints per-round times and their median/p95/max: node death → group
# started on a survivor; → detection (a survivor's status shows the node offline, polled every few ms);
# → decision (the DC's first start sent to the survivor, from the time stamp of its log line); and the
# nodes' idle RSS and CPU. Last line: failover_s=<median>.
# Usage: bench/failover-local.sh [ROUNDS] [--fencing off|agent|lease]   (agent: a demo fence agent that
# kills the node's daemon; lease: self-fencing with stonith-watchdog-timeout=2s; both report the fence time too)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-20}
shift || true
# VIGIL: the vigil binary to measure; by default the shipped one, built first by scripts/publish.sh (about 3 minutes).
# The development build is VIGIL=src/Vigil/bin/Release/net10.0/vigil (after 'dotnet build src/Vigil -c Release').
VIGIL=${VIGIL:-$(bash scripts/publish.sh dist/vigil)}
[ -f "$VIGIL" ] && [ -x "$VIGIL" ] || { echo "failover-local.sh: VIGIL=$VIGIL is not an executable file (give the path of a vigil binary, or leave VIGIL unset to build the shipped one)" >&2; exit 66; }
exec "$VIGIL" demo --rounds "$rounds" "$@" < /dev/null
