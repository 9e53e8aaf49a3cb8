#!/usr/bin/env bash
# Installs the Debian packages Vigil's tests and demo need, only those that are missing.
# Sourced by test.sh and demo.sh; safe to run again.

# Packages the test suite uses: Pacemaker's tools as the conformance oracle (crm_verify, crm_simulate),
# real resource and fence agents for the executor, and the tools for network namespaces and loop devices
# (nftables: the system tests' packet loss and asymmetric partitions).
VIGIL_TEST_PACKAGES=(pacemaker-cli-utils pacemaker resource-agents fence-agents iproute2 iputils-ping nftables e2fsprogs kmod util-linux procps python3)

# What Native AOT compilation needs (scripts/publish.sh, and test.sh, which tests the shipped binary too).
VIGIL_PUBLISH_PACKAGES=(clang zlib1g-dev)

vigil_missing_packages() {
    local p missing=()
    for p in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$p")
        fi
    done
    echo "${missing[@]:-}"
}

vigil_install_packages() {
    local missing
    missing=$(vigil_missing_packages "$@")
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "vigil: these Debian packages are missing: $missing" >&2
        echo "vigil: run this command as root (or: sudo apt-get install -y $missing) and try again" >&2
        return 1
    fi
    echo "vigil: installing Debian packages: $missing"
    # Keep package postinst scripts from starting daemons (corosync, pacemaker) on this machine.
    local created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        created_policy=1
    fi
    local rc=0
    # shellcheck disable=SC2086
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing; } || rc=$?
    [ "$created_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return $rc
}
