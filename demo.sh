#!/usr/bin/env bash
# Vigil's main job for a newcomer. Until the cluster daemon exists (issue: cluster daemon), it builds
# vigil and checks the seed configurations from real how-tos (crm shell syntax and Heartbeat
# haresources), converts them to CIB XML, and has Pacemaker's own crm_verify accept the result.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
vigil_install_packages pacemaker-cli-utils

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build src/Vigil -c Release -nologo -v:q
vigil() { dotnet src/Vigil/bin/Release/net10.0/vigil.dll "$@"; }

rc_all=0
for f in examples/seed-001.crm examples/seed-002.crm examples/seed-002.haresources examples/seed-003.haresources; do
    echo "== vigil config check $f"
    set +e; vigil config check --quiet "$f"; rc=$?; set -e
    echo "   exit code $rc (0 valid, 1 warnings only, 2 errors)"
    [ "$rc" -le 1 ] || rc_all=1
    xml=$(mktemp)
    vigil config convert --to xml "$f" 2>/dev/null > "$xml"
    if crm_verify -x "$xml"; then echo "   Pacemaker's crm_verify accepts the exported CIB XML"; else echo "   crm_verify rejected the export"; rc_all=1; fi
    rm -f "$xml"
done
echo
echo "== vigil config show examples/seed-002.haresources   (Heartbeat v1 -> crm shell syntax)"
vigil config show examples/seed-002.haresources 2>/dev/null
exit $rc_all
