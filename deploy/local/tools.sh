#!/usr/bin/env bash
# Test tools from Debian's packages (no Docker engine: docs/architecture.md "Running locally and
# testing"): headless Chromium and its
# driver for the public report form, and Prometheus Alertmanager, which the intake tests and
# bench/alert_storm.py drive as a real upstream; Go, which builds the audit tests' independent
# verifier on the Go checksum database's packages (services/audit/tests/tlogcheck). Installed
# only when missing.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v prometheus-alertmanager >/dev/null 2>&1 || need+=(prometheus-alertmanager)
command -v go >/dev/null 2>&1 || need+=(golang-go)
((${#need[@]})) || exit 0

echo "==> tools: apt-get install ${need[*]}"
sudo=()
((EUID == 0)) || sudo=(sudo)
"${sudo[@]}" apt-get update -qq
# Only the binaries: the package's own service must not start on the machine (policy-rc.d 101
# tells invoke-rc.d not to start anything during the install).
policy=/usr/sbin/policy-rc.d
created=0
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
    "${sudo[@]}" chmod +x "$policy"
    created=1
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
((created)) && "${sudo[@]}" rm -f "$policy"
exit 0
