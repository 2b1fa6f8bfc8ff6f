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
