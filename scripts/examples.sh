#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# examples.sh  build the C examples (examples/*.c) into WebAssembly programs
#              for WASI with Debian's clang and wasi-libc, into
#              $CACHE/examples, where the VM and the tests find them; and
#              those listed in examples/expected.list natively with gcc, to
#              compare their output with.
#              Incremental: a program is rebuilt when its source is newer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLANG=${CLANG:-/usr/lib/llvm-19/bin/clang}
[[ -x $CLANG && -d /usr/include/wasm32-wasi ]] ||
	die "examples: clang-19 and wasi-libc missing: run make setup"
out=$CACHE/examples
native=$CACHE/examples-native
mkdir -p "$out/expected" "$native"
cd "$TOP/examples"
for c in *.c; do
	name=${c%.c}
	if [[ ! $out/$name.wasm -nt $c ]]; then
		"$CLANG" --target=wasm32-wasi -O2 -Wall -Wextra -Werror \
			-Wl,--strip-all -o "$out/$name.wasm" "$c"
		log "examples: $name.wasm ($(stat -c %s "$out/$name.wasm") bytes)"
	fi
done
# Programs to attach to kernel events: freestanding, no libc, no _start (their
# handlers run where sleeping is not allowed).
for c in attach/*.c; do
	[[ -e $c ]] || continue
	name=$(basename "$c" .c)
	if [[ ! $out/$name.wasm -nt $c ]]; then
		"$CLANG" --target=wasm32 -O2 -nostdlib -ffreestanding -Wall -Wextra -Werror \
			-Wl,--no-entry -Wl,--strip-all -o "$out/$name.wasm" "$c"
		log "examples: $name.wasm ($(stat -c %s "$out/$name.wasm") bytes)"
	fi
done
# The native outputs the tests compare with (of the examples that do not
# import from the kernel).
while read -r name args; do
	[[ -z $name || $name == \#* ]] && continue
	if [[ ! $native/$name -nt $name.c ]]; then
		gcc -O2 -Wall -Wextra -Werror -o "$native/$name" "$name.c"
	fi
	key=$name${args:+_${args// /_}}
	if [[ ! $out/expected/$key.md5 -nt $native/$name ]]; then
		# shellcheck disable=SC2086
		"$native/$name" $args | md5sum | cut -d' ' -f1 >"$out/expected/$key.md5"
	fi
done <expected.list
