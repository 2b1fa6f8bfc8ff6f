#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Larger programs in the kernel: bzip2 1.0.8's library (examples/
# bzip2-roundtrip.c, about 5 000 lines of C) compresses and decompresses
# 256 KiB at three block sizes and prints byte for byte what the same program
# built natively prints; and a Rust program built for wasm32-wasip1 with the
# standard library (examples/hello-rust) gets its arguments, calls the
# kernel import module and exits with its status. The host test
# (tools/wasm/wasmctl/tests/cli.rs) runs both with --local.
set -e
uptime_cs() { tr -d . </proc/uptime | cut -d' ' -f1; }

start=$(uptime_cs)
wasmctl run -f /examples/bzip2-roundtrip.wasm 256 >/tmp/bzip2.out
end=$(uptime_cs)
cs=$((end - start))
echo "  bzip2-roundtrip 256: $((cs / 100)).$((cs / 10 % 10))s in the kernel"
tail -1 /tmp/bzip2.out | grep -qx 'round trip ok' || { cat /tmp/bzip2.out; exit 1; }
[ "$(md5sum </tmp/bzip2.out | cut -d' ' -f1)" = "$(cat /examples/expected/bzip2-roundtrip_256.md5)" ] ||
	{ echo "bzip2-roundtrip: the output differs from the native program's:"; cat /tmp/bzip2.out; exit 1; }

if [ ! -f /examples/hello-rust.wasm ]; then
	echo "  hello-rust: skipped, not built: $(cat /examples/hello-rust.skipped 2>/dev/null)"
	exit 0
fi
wasmctl run -f /examples/hello-rust.wasm a 'b c' >/tmp/rust
cat /tmp/rust
[ "$(sed -n 1p /tmp/rust)" = 'Hello from Rust in the kernel!' ]
[ "$(sed -n 2p /tmp/rust)" = 'arguments: a b c' ]
# The CPU comes from the kernel import module.
sed -n 3p /tmp/rust | grep -qE '^CPU [0-9]+ of [0-9]+$'
[ "$(wc -l </tmp/rust)" -eq 3 ]
set +e
wasmctl run -f /examples/hello-rust.wasm exit=7 >/dev/null
rc=$?
set -e
[ "$rc" -eq 7 ] || { echo "hello-rust exit=7: wasmctl exited $rc"; exit 1; }
