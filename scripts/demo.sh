#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The README's first command, after `make kernel tools`: boot the patched
# kernel in a VM and run WebAssembly programs in ring 0 with wasmctl -- an
# ordinary C program built for WASI first. (The KUnit suites are in make
# check: they need a kernel of their own.)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log "demo: booting the patched kernel and running examples/ in it with wasmctl"
"$TOP/scripts/vm.sh" 'set -x
dmesg | grep "wasm:"
wasmctl version
wasmctl run -f /examples/hello.wasm a b
wasmctl run -f /examples/add.wat --invoke add 2 3
wasmctl run -f /examples/fib.wat
wasmctl run -f /examples/float.wat --invoke hypot 3 4
wasmctl run -f /examples/trap.wat --invoke div 7 0 || echo "(exit status $?: a trap)"'

