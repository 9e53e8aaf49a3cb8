#!/usr/bin/env bash
# Deterministic simulator throughput: runs SEEDS seeds (default 2000, from seed 1) on every core in a
# Release build and prints the failing seeds, then the last line: seeds=… violations=… seeds_per_s=…
# Exit code 1 on any invariant violation. Replay one seed with its trace:
#   dotnet run --project test/Vigil.Simulation -- --seed N
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-2000}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build test/Vigil.Simulation -c Release -nologo -v:q >/dev/null
exec dotnet test/Vigil.Simulation/bin/Release/net10.0/Vigil.Simulation.dll --seeds "$seeds" < /dev/null
