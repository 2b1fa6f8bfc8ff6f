#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Ordinary C programs (examples/*.c, built for WASI with wasi-libc) in the
# kernel: output streamed back to wasmctl while they run, arguments, exit
# status, the kernel import module, the same lines with --local, unknown
# imports named, and 10 MiB of output delivered whole and in order with
# bounded kernel memory.
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

wasmctl run -f /examples/hello.wasm a b >/tmp/hello
cat /tmp/hello
grep -qx 'Hello from WebAssembly in the kernel!' /tmp/hello
grep -qx 'arguments: a b' /tmp/hello
# The CPU id and the task come from the kernel import module.
grep -qE '^CPU [0-9]+ of [0-9]+, for wasmctl \(pid [0-9]+\)$' /tmp/hello
expect 7 wasmctl run -f /examples/hello.wasm exit=7
# --local: the same lines, the CPU and the time aside.
wasmctl --local run -f /examples/hello.wasm a b >/tmp/hello.local
strip() { sed '/^CPU /d; /^elapsed: /d' "$1"; }
[ "$(strip /tmp/hello)" = "$(strip /tmp/hello.local)" ] ||
	{ echo "--local differs:"; cat /tmp/hello.local; exit 1; }

# An import the kernel does not offer fails to instantiate, with its name.
printf '\0asm\1\0\0\0\1\4\1\140\0\0\2\20\1\6kernel\5nopez\0\0' >/tmp/nope.wasm
nope=$(wasmctl load -f /tmp/nope.wasm)
expect 3 wasmctl instantiate "$nope"
grep -q 'kernel.nopez' /tmp/out || { cat /tmp/out; exit 1; }
wasmctl unload "$nope"

# 10 MiB of output: all of it, in order -- the program's own count and
# checksum agree with what arrived, and it is byte for byte what the same
# program built natively prints -- while the kernel holds one chunk of it at
# a time: the peak of memory in use during the run stays far below 10 MiB.
free_kib() { sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
rm -f /tmp/flood.fifo /tmp/flood.md5
mkfifo /tmp/flood.fifo
awk 'END { print NR; print $0 }' </tmp/flood.fifo >/tmp/flood.tail &
before=$(free_kib)
low=$before
(wasmctl run -f /examples/flood.wasm 10 | tee /tmp/flood.fifo | md5sum >/tmp/flood.md5) &
while [ ! -s /tmp/flood.md5 ]; do
	now=$(free_kib)
	[ "$now" -lt "$low" ] && low=$now
	sleep 0.05
done
wait
peak=$((before - low))
echo "  flood: 10 MiB through the connector; peak memory use during the run: $peak KiB"
# KASAN keeps freed objects in a quarantine of up to 1/32 of memory, so in a
# KASAN kernel MemFree also counts the messages already delivered and freed:
# the bound is only meaningful, and only checked, without it.
if grep -q ' kasan_quarantine_reduce$' /proc/kallsyms; then
	echo "  (KASAN kernel: freed messages sit in its quarantine; bound not checked)"
else
	[ "$peak" -lt 4096 ] || { echo "10 MiB of output used $peak KiB"; exit 1; }
fi
[ "$(sed -n 2p /tmp/flood.tail)" = "$(($(sed -n 1p /tmp/flood.tail) - 1)) lines, 10485769 bytes, checksum bcf547dc" ] ||
	{ echo "flood:"; cat /tmp/flood.tail; exit 1; }
[ "$(cut -d' ' -f1 /tmp/flood.md5)" = "$(cat /examples/expected/flood_10.md5)" ] ||
	{ echo "flood: the output differs from the native program's"; exit 1; }
