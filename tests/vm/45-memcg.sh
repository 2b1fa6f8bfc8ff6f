#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Memory accounting (Documentation/admin-guide/wasm.rst): what a module and
# its instances allocate is charged to the memory cgroup of the task that
# sent the request. A memory that does not fit under the cgroup's memory.max
# is refused with OUT_OF_MEMORY (exit status 7) -- the client is not killed
# by the cgroup's OOM killer -- one that fits is charged while its instance
# lives, and unloading uncharges it.
set -e
cg=/sys/fs/cgroup
grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none $cg
echo +memory >$cg/cgroup.subtree_control
mkdir $cg/wasm-test
echo 64M >$cg/wasm-test/memory.max
# Whatever happens, leave nothing loaded and no cgroup behind for the next tests.
m=
cleanup() {
	[ -z "$m" ] || wasmctl unload --cascade "$m" >/dev/null 2>&1 || true
	rmdir $cg/wasm-test 2>/dev/null || true
}
trap cleanup EXIT
# in_cgroup CMD...: run CMD as a member of the 64 MiB cgroup.
in_cgroup() {
	sh -c 'echo $$ >/sys/fs/cgroup/wasm-test/cgroup.procs && exec "$@"' sh "$@"
}
size() { # size PAGES: a module with a memory of PAGES pages, exporting its size
	printf '(module (memory %s) (func (export "size") (result i32) (memory.size)))' "$1" \
		>/tmp/mem-$1.wat
	echo /tmp/mem-$1.wat
}

# 96 MiB: within the driver's limits, so it runs outside the cgroup...
[ "$(wasmctl run -f "$(size 1536)" --invoke size)" = 1536 ]
# ...but not inside it.
# Until the failed allocation's pages are uncharged (below), the cgroup is at
# its limit: a new page for wasmctl's message (tmpfs, a pipe) would wake the
# cgroup's OOM killer for that write, not for the driver's. So the message is
# written over a page of /tmp/out charged outside the cgroup, opened without
# truncating it.
head -c 4096 /dev/zero >/tmp/out
set +e
in_cgroup wasmctl run -f /tmp/mem-1536.wat --invoke size 1<>/tmp/out 2>&1
st=$?
set -e
[ "$st" -eq 7 ] || { echo "96 MiB in a 64 MiB cgroup exited $st:"; tr -d '\0' </tmp/out; exit 1; }
grep -aq 'out of memory' /tmp/out || { tr -d '\0' </tmp/out; exit 1; }
# What the failed vmalloc had charged is freed by a workqueue: wait for all of
# it, so that it neither counts below nor leaves the cgroup at its limit.
vmalloc() { sed -n 's/^vmalloc //p' $cg/wasm-test/memory.stat; }
t=0
while [ "$(cat $cg/wasm-test/memory.current)" -ge $((8 << 20)) ] || [ "$(vmalloc)" -ne 0 ]; do
	[ $t -lt 100 ] || { echo "the failed 96 MiB stayed charged:"; cat $cg/wasm-test/memory.stat; exit 1; }
	sleep 0.1
	t=$((t + 1))
done
[ "$(sed -n 's/^oom_kill //p' $cg/wasm-test/memory.events)" -eq 0 ] ||
	{ echo "the cgroup's OOM killer ran:"; cat $cg/wasm-test/memory.events; exit 1; }

# 32 MiB fits, and is charged to the cgroup while the instance lives.
before=$(cat $cg/wasm-test/memory.current)
m=$(in_cgroup wasmctl load -f "$(size 512)") || { echo "loading in the cgroup failed"; exit 1; }
i=$(in_cgroup wasmctl instantiate "$m") ||
	{ echo "a 32 MiB memory does not fit in the 64 MiB cgroup"; cat $cg/wasm-test/memory.stat; exit 1; }
during=$(cat $cg/wasm-test/memory.current)
echo "  an instance with 32 MiB of memory: the cgroup's use went from $before to $during bytes"
# The linear memory is vmalloc'd: the cgroup's vmalloc count (0 before, see
# above) is the exact measure; memory.current also moves with page cache and
# slab that other work frees meanwhile.
[ "$(vmalloc)" -ge $((32 << 20)) ] ||
	{ echo "only $(vmalloc) bytes of vmalloc charged"; cat $cg/wasm-test/memory.stat; exit 1; }
[ "$(wasmctl invoke "$i" size)" = 512 ]
wasmctl unload --cascade "$m"
m=
after=$(cat $cg/wasm-test/memory.current)
[ $((after - before)) -lt $((4 << 20)) ] ||
	{ echo "unloading left $((after - before)) bytes charged"; exit 1; }
