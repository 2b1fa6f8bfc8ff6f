#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's first command, after `make kernel tools`: show the runtime
# working -- its KUnit suites in the kernel, then the driver in a VM running
# WebAssembly programs in ring 0 with wasmctl.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log "demo: the drivers/wasm KUnit suites, in an x86_64 kernel under QEMU"
"$TOP/scripts/kunit.sh" x86_64
log "demo: booting the patched kernel and running examples/ in it with wasmctl"
"$TOP/scripts/vm.sh" 'set -x
dmesg | grep "wasm:"
wasmctl version
wasmctl run -f /examples/add.wat --invoke add 2 3
wasmctl run -f /examples/fib.wat
wasmctl run -f /examples/float.wat --invoke hypot 3 4
wasmctl run -f /examples/trap.wat --invoke div 7 0 || echo "(exit status $?: a trap)"'

