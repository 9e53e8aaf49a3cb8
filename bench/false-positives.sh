#!/usr/bin/env bash
# No false failovers under load: a healthy 3-node cluster on 127.0.0.1 is watched for SECONDS
# (default 600) while two busy loops saturate both cores. Any leader change, node loss or group move
# is a false positive. Last line: soak_s=… leader_changes=… node_losses=… group_moves=…
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Vigil -c Release -nologo -v:q >/dev/null
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
for _ in 1 2; do
    timeout $((seconds + 120)) sh -c 'while :; do :; done' &
    pids+=($!)
done
dotnet src/Vigil/bin/Release/net10.0/vigil.dll demo --soak "$seconds" < /dev/null
