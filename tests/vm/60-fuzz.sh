#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The driver under fire from several clients at once (wasm-vmfuzz, see
# tools/wasm/vmfuzz): random, mutated and intact modules loaded, instantiated
# with small fuel and memory limits, invoked with random arguments, linked,
# unloaded or abandoned; garbage requests; sockets closed with transient
# handles open; raw connector garbage (cn-echo) meanwhile, and one more
# fuzzing client killed in the middle of its work. Afterwards the driver still
# answers and holds nothing: every handle was transient. VMFUZZ_ROUNDS and
# VMFUZZ_SEED scale and vary the run (make check-debug runs a bigger one).
# init fails the run on any oops or WARN in dmesg.
set -e
rounds=${VMFUZZ_ROUNDS:-400}
seed=${VMFUZZ_SEED:-1}

wasm-vmfuzz --seed $((seed + 1)) --rounds 1000000 --clients 1 --name victim \
	--corpus /examples >/tmp/victim.out 2>&1 &
victim=$!
cn-echo --idx 15 --val 1 --count $((rounds / 2)) answers >/tmp/cn-echo.out 2>&1 &
echo_pid=$!
wasm-vmfuzz --seed "$seed" --rounds "$rounds" --clients 4 --corpus /examples
kill -0 "$victim" || { echo "the victim ended early:"; cat /tmp/victim.out; exit 1; }
kill -KILL "$victim"
wait "$victim" || true
wait "$echo_pid" || { cat /tmp/cn-echo.out; exit 1; }

wasmctl version >/dev/null
# Everything the fuzzers loaded was transient, but the killed one may have been
# between an upload and its TRANSIENT, or in the middle of an upload (uploads
# are dropped only when idle): at most its two sockets' worth is left.
wasmctl list | awk 'NR > 1' >/tmp/left
if [ "$(awk '$2 != "upload" && $NF !~ /^victim/' /tmp/left | wc -l)" -ne 0 ] ||
	[ "$(wc -l </tmp/left)" -gt 2 ]; then
	echo "left behind:"
	cat /tmp/left
	exit 1
fi
for h in $(awk '{ print $1 }' /tmp/left); do
	wasmctl unload --cascade "$h"
done
[ "$(wasmctl list | wc -l)" -eq 1 ] || { wasmctl list; exit 1; }
