#!/usr/bin/env bash
# Builds vigil as it is shipped: self-contained (the .NET runtime included, nothing else to install)
# and precompiled together with the runtime as one composite ReadyToRun image, so a one-shot command
# neither waits for the JIT nor calls the framework through cross-image stubs (1,000 resources × 16
# nodes: `vigil simulate` 0.26 s as the framework-dependent build, about 0.2 s as this one).
#   scripts/publish.sh [OUT_DIR]      default dist/vigil; prints the path of the binary
# The crossgen step compiles the whole framework: about 2.5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist/vigil}
rid=$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')
[ -n "$rid" ] || { echo "publish.sh: cannot tell this machine's runtime identifier from 'dotnet --info'" >&2; exit 69; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
# Its own output and intermediate folders (…/RID/), so the development build in bin/Release stays as it is.
dotnet publish src/Vigil/Vigil.csproj -c Release -r "$rid" --self-contained \
    -p:AppendRuntimeIdentifierToOutputPath=true -p:PublishReadyToRun=true -p:PublishReadyToRunComposite=true \
    -p:VigilReadyToRunInner=true -o "$out" -nologo -v:q >&2
echo "$out/vigil"
