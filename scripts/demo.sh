#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's first command, after `make kernel tools`: show the runtime
# working -- its KUnit suites in the kernel, then the driver in a VM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log "demo: the drivers/wasm KUnit suites, in an x86_64 kernel under QEMU"
"$TOP/scripts/kunit.sh" x86_64
log "demo: booting the patched kernel; the driver's line from the guest's dmesg:"
"$TOP/scripts/vm.sh" 'dmesg | grep -i "wasm:"'
