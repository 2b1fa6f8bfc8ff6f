#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# wasmctl against the driver: run an example, upload a module of more than
# 1 MiB in chunks, report traps and invalid modules with their exit codes,
# manage handles with load/list/invoke/unload.
set -e
expect() { # expect STATUS CMD... : run CMD, require exit status STATUS
	want=$1
	shift
	set +e
	"$@" >/tmp/out 2>&1
	got=$?
	set -e
	if [ "$got" -ne "$want" ]; then
		echo "'$*' exited $got, not $want:"
		cat /tmp/out
		return 1
	fi
}

[ "$(wasmctl run -f /examples/add.wat --invoke add 2 3)" = 5 ]
[ "$(wasmctl run -f /examples/fib.wat)" = 2880067194370816120 ]

# A module of 1 MiB + 57 bytes: 16 pages of memory, a 1 MiB data segment whose
# last byte is 42, and `main` loading it.
{
	printf '\0asm\1\0\0\0'
	printf '\1\5\1\140\0\1\177'               # type: () -> i32
	printf '\3\2\1\0'                         # func 0: type 0
	printf '\5\3\1\0\20'                      # memory: 16 pages
	printf '\7\10\1\4main\0\0'                # export "main"
	printf '\12\13\1\11\0\101\377\377\77\55\0\0\13' # i32.load8_u (i32.const 0xfffff)
	printf '\13\210\200\100\1\0\101\0\13\200\200\100' # data: 1 MiB at 0
	head -c 1048575 /dev/zero
	printf '\52'
} >/tmp/big.wasm
[ "$(wc -c </tmp/big.wasm)" -gt 1048576 ]
[ "$(wasmctl run -f /tmp/big.wasm)" = 42 ]

# Traps: exit status 4 and the spec's message.
expect 4 wasmctl run -f /examples/trap.wat --invoke div 7 0
grep -q 'integer divide by zero' /tmp/out
expect 4 wasmctl run -f /examples/trap.wat --invoke recurse
grep -q 'call stack exhausted' /tmp/out
expect 4 wasmctl run -f /examples/trap.wat --invoke load 65536
grep -q 'out of bounds memory access' /tmp/out

# Malformed and invalid modules: exit status 3, with the byte offset.
printf '\0asm\1\0\0\0\1\377' >/tmp/bad.wasm
expect 3 wasmctl run -f /tmp/bad.wasm
grep -qi 'offset' /tmp/out
head -c 4096 /dev/urandom >/tmp/random.wasm
expect 3 wasmctl run -f /tmp/random.wasm

# Handles outlive a command without --local.
h=$(wasmctl load -f /examples/add.wat)
[ -n "$h" ]
wasmctl list | grep -q add
i=$(wasmctl instantiate "$h")
[ "$(wasmctl invoke "$i" add 40 2)" = 42 ]
expect 7 wasmctl unload "$h"
wasmctl unload --cascade "$h"
expect 8 wasmctl invoke "$i" add 1 1
wasmctl stats >/dev/null
