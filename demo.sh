#!/usr/bin/env bash
# Vigil's main job: a local 3-node cluster on 127.0.0.1 (separate processes, ports and state
# folders under a temporary directory). It configures a group of two test resources, shows the
# status, kills -9 the node running the group, shows the failover with its measured duration and
# cleans up. No root, no network namespaces, no terminal needed. Last line: failover_s=…
set -euo pipefail
cd "$(dirname "$0")"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Vigil -c Release -nologo -v:q
exec dotnet src/Vigil/bin/Release/net10.0/vigil.dll demo "$@" < /dev/null
