#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The driver against hostile or unlucky users: an unprivileged user is
# refused with exit status 5, garbage connector messages get error replies,
# an endless loop stops on a fatal signal (as Ctrl-C on wasmctl sends) and
# with a fuel limit. init fails the run on any oops or WARN in dmesg.
set -e
nobody() { su -s /bin/sh nobody -c "$*"; }

set +e
nobody wasmctl run -f /examples/add.wat --invoke add 2 3 >/tmp/out 2>&1
st=$?
set -e
[ "$st" -eq 5 ] || { echo "unprivileged run exited $st"; cat /tmp/out; exit 1; }
grep -qi 'CAP_SYS_ADMIN' /tmp/out
# VERSION is open to everyone and says the caller is not privileged.
nobody wasmctl version | grep -q 'privileged: no'

# Garbage to the driver's connector id: the driver answers, never crashes.
cn-echo --idx 15 --val 1 --count 200 answers

# A fatal signal stops an endless loop. (Ctrl-C's SIGINT is ignored by
# background jobs of a script, so send SIGTERM: just as fatal by default.)
wasmctl run -f /examples/spin.wat >/tmp/spin.out 2>&1 &
pid=$!
sleep 1
kill -0 "$pid"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 50 ] || { echo "wasmctl still running 5 s after SIGTERM"; exit 1; }
	sleep 0.1
done
# And so does fuel.
set +e
wasmctl run --fuel 1000000 -f /examples/spin.wat >/tmp/out 2>&1
st=$?
set -e
[ "$st" -eq 4 ] || { echo "fuel run exited $st"; cat /tmp/out; exit 1; }
grep -q 'out of fuel' /tmp/out
# The killed client could not unload its module and instance, but `run` had
# made them transient: the driver unloaded them when its socket closed.
wasmctl list >/tmp/out
if grep -q 'module\|instance' /tmp/out; then
	echo "left behind by the killed run:"
	cat /tmp/out
	exit 1
fi

# Unloading an instance while another client runs it stops the run at its
# next interrupt check (well under a second), and frees it.
wasmctl run -f /examples/spin.wat >/tmp/running.out 2>&1 &
pid=$!
sleep 0.5
hs=$(wasmctl list | awk '$2 == "module" { print $1 }')
[ -n "$hs" ] || { echo "the run ended before it could be unloaded"; exit 1; }
for h in $hs; do
	wasmctl unload --cascade "$h"
done
i=0
while kill -0 "$pid" 2>/dev/null; do
	i=$((i + 1))
	[ "$i" -lt 10 ] || { echo "the run goes on 1 s after its instance was unloaded"; exit 1; }
	sleep 0.1
done
wasmctl list >/tmp/out
! grep -q 'module\|instance' /tmp/out
st=0
wait "$pid" || st=$?
[ "$st" -eq 4 ] || { echo "the unloaded run exited $st"; cat /tmp/running.out; exit 1; }
grep -q 'interrupted' /tmp/running.out || { cat /tmp/running.out; exit 1; }

# Unloading a module while another client instantiates it: the instantiation
# fails and leaves no instance behind (an instance must not outlive its module,
# out of reach of UNLOAD --cascade and of the cleanup of transient handles).
# The start function counts to the provider's global `n`: calibrated so that
# counting takes half a second or more on top of what instantiating costs
# anyway (in a debug kernel that alone can take half a second), then made
# eight times longer.
cat >/tmp/counter.wat <<'WAT'
(module
  (global (export "n") (mut i32) (i32.const 0))
  (func (export "set") (param i32) (global.set 0 (local.get 0))))
WAT
cat >/tmp/slow-start.wat <<'WAT'
(module
  (import "m" "n" (global $n (mut i32)))
  (func $start (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (global.get $n)))))
  (start $start))
WAT
now() { cut -d' ' -f1 /proc/uptime | tr -d .; }
counter=$(wasmctl instantiate "$(wasmctl load -f /tmp/counter.wat)")
wasmctl register "$counter" m
slow=$(wasmctl load -f /tmp/slow-start.wat)
# instantiate_cs N: hundredths of a second to instantiate with `n` = N.
instantiate_cs() {
	wasmctl invoke "$counter" set "$1" >/dev/null
	t0=$(now)
	i=$(wasmctl instantiate --link "$counter" "$slow")
	dt=$(($(now) - t0))
	wasmctl unload "$i"
	echo "$dt"
}
base=$(instantiate_cs 1)
n=100000
while :; do
	dt=$(($(instantiate_cs "$n") - base))
	[ "$dt" -lt 50 ] || break
	n=$((n * 2))
	# Eight times n must stay an i32.
	[ "$n" -le 134217728 ] || { echo "a start function of $n steps took $dt cs"; exit 1; }
done
# Eight times what took half a second: still running after 0.5 s even when
# the calibration above ran on a busy machine.
wasmctl invoke "$counter" set $((n * 8)) >/dev/null
wasmctl instantiate --link "$counter" "$slow" >/tmp/inst.out 2>&1 &
pid=$!
sleep 0.5
kill -0 "$pid" || { echo "the instantiation ended within 0.5 s"; cat /tmp/inst.out; exit 1; }
wasmctl unload --cascade "$slow"
st=0
wait "$pid" || st=$?
[ "$st" -eq 8 ] || { echo "instantiating an unloaded module exited $st"; cat /tmp/inst.out; exit 1; }
grep -q 'unloaded' /tmp/inst.out
wasmctl list >/tmp/out
if grep -q 'slow-start' /tmp/out; then
	echo "an instance outlived its module:"
	cat /tmp/out
	exit 1
fi
wasmctl unload --cascade "$(wasmctl list | awk '$NF == "counter" && $2 == "module" { print $1 }')"
