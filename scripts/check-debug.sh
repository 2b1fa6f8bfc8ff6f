#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-debug.sh  Build the debug VM kernel (scripts/build-kernel.sh debug:
# KASAN, lockdep, kmemleak, lockup detectors, fault injection) and run
# tests/vm/check-debug in it: KUnit, the VM tests, the testsuite in the kernel,
# the VM fuzz, the fuzz under fault injection, kmemleak. Ends with one line,
#   check-debug: N tests, 0 oops, 0 WARN, 0 kmemleak
# and fails on any failed test, oops, BUG, WARN, lockdep report, sleeping in
# atomic context, soft lockup, hung task or leak. Takes tens of minutes on
# 2 cores (see README.md); not part of `make check`.
#
# CHECK_DEBUG_SEED picks the fuzz seed (default 1); CHECK_DEBUG_ROUNDS and
# CHECK_DEBUG_FAULT_ROUNDS the fuzz rounds without and with fault injection.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

t0=$(date +%s)
"$TOP/scripts/build-kernel.sh" debug
t1=$(date +%s)
seed=${CHECK_DEBUG_SEED:-1}
log "check-debug: running in the debug VM (seed $seed)"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
# Allocation failures are expected under fault injection and print call
# traces: the guest counts what matters itself (tests/vm/check-debug), the
# generic check only stops on what can never be right.
VM_KERNEL=debug VM_MEM=2G VM_TIMEOUT=${VM_TIMEOUT:-5400} \
	VM_APPEND="watchdog_thresh=5 kasan_multi_shot" \
	VM_OOPS_RE='Oops|BUG:|WARNING:|general protection|Kernel panic|blocked for more than' \
	"$TOP/scripts/vm.sh" "CHECK_DEBUG_ROUNDS=${CHECK_DEBUG_ROUNDS:-20000} \
CHECK_DEBUG_FAULT_ROUNDS=${CHECK_DEBUG_FAULT_ROUNDS:-4000} sh /tests/check-debug $seed" \
	>"$out" || rc=$?
t2=$(date +%s)
grep -v '^@@check-debug ' "$out" || true
log "check-debug: $(((t2 - t0) / 60)) min $(((t2 - t0) % 60)) s (kernel build $((t1 - t0)) s, VM $((t2 - t1)) s)"
read -r _ tests failed oops warn leaks < <(grep '^@@check-debug ' "$out" || echo '@@ 0 1 ? ? ?')
if [[ $failed == 0 ]]; then
	echo "check-debug: $tests tests, $oops oops, $warn WARN, $leaks kmemleak"
else
	echo "check-debug: $tests tests, $failed failed, $oops oops, $warn WARN, $leaks kmemleak"
fi
[[ $rc == 0 && $failed == 0 && $oops == 0 && $warn == 0 && $leaks == 0 ]]
