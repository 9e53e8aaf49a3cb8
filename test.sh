#!/usr/bin/env bash
# Runs Vigil's whole test suite: installs what the tests need (Debian packages when missing,
# NuGet packages through restore), builds, runs every test project, and prints a summary line
# "N passed, N failed, N skipped". On CI (CI=true) a skipped test counts as a failure.
set -euo pipefail
cd "$(dirname "$0")"
# shellcheck source=scripts/deps.sh
source scripts/deps.sh
vigil_install_packages "${VIGIL_TEST_PACKAGES[@]}"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build Vigil.slnx -c Release -nologo -v:q "$@"
# The binary as shipped (Native AOT, scripts/publish.sh): ShippedBinaryTests run it beside the development build.
bash scripts/publish.sh dist/vigil >/dev/null

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Vigil.slnx -c Release --no-build -nologo 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# Sum the per-project summaries: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r failed passed skipped < <(grep -E '(Passed|Failed)! +- +Failed: ' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' |
    awk '{f+=$1; p+=$2; s+=$3} END {print f+0, p+0, s+0}')
projects=$(grep -cE '(Passed|Failed)! +- +Failed: ' "$log" || true)
echo
echo "test projects: $projects"
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$rc" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
if [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
if [ "${CI:-}" = "true" ] && [ "$skipped" -ne 0 ]; then
    echo "CI: $skipped skipped test(s) count as failures" >&2
    exit 1
fi
