#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# examples.sh  build the C examples (examples/*.c) into WebAssembly programs
#              for WASI with Debian's clang and wasi-libc, into
#              $CACHE/examples, where the VM and the tests find them; and
#              those listed in examples/expected.list natively with gcc, to
#              compare their output with. Build examples/hello-rust for
#              wasm32-wasip1 with rustup's toolchain, adding that target to
#              it if it lacks it.
#              Incremental: a program is rebuilt when its source is newer.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

CLANG=${CLANG:-/usr/lib/llvm-19/bin/clang}
[[ -x $CLANG && -d /usr/include/wasm32-wasi ]] ||
	die "examples: clang-19 and wasi-libc missing: run make setup"
out=$CACHE/examples
native=$CACHE/examples-native
mkdir -p "$out/expected" "$native"

# bzip2-roundtrip.c links bzip2 1.0.8's library, unmodified: the sources the
# bzip2-sys crate of the Rust crate registry ships, pinned to one version and
# the SHA-256 of its .crate file. Built once per target into $CACHE/examples-lib.
BZIP2_CRATE=bzip2-sys
BZIP2_CRATE_VERSION=0.1.13+1.0.8
BZIP2_CRATE_SHA256=225bff33b2141874fe80d71e07d6eec4f85c5c216453dd96388240f96e1acc14
BZIP2_SOURCES=(blocksort bzlib compress crctable decompress huffman randtable)

# bzip2_lib wasm|native: build the library's objects for that target (once),
# and set lib_flags and lib_objs to what an example links it with.
bzip2_lib() {
	local target=$1 src dir cc f
	src=$("$TOP/scripts/fetch-crate.sh" "$BZIP2_CRATE" "$BZIP2_CRATE_VERSION" \
		"$BZIP2_CRATE_SHA256" </dev/null)/bzip2-1.0.8
	dir=$CACHE/examples-lib/bzip2-$BZIP2_CRATE_VERSION/$target
	if [[ $target == wasm ]]; then cc=("$CLANG" --target=wasm32-wasi); else cc=(gcc); fi
	lib_flags=(-I"$src")
	lib_objs=()
	mkdir -p "$dir"
	for f in "${BZIP2_SOURCES[@]}"; do
		# Third-party code as it is: built with its own Makefile's
		# optimisation level, without our warning flags.
		if [[ ! -f $dir/$f.o ]]; then
			"${cc[@]}" -O2 -w -DBZ_NO_STDIO -c -o "$dir/$f.o.tmp" "$src/$f.c"
			mv "$dir/$f.o.tmp" "$dir/$f.o"
		fi
		lib_objs+=("$dir/$f.o")
	done
}

# libs_for NAME wasm|native: set lib_flags and lib_objs for example NAME.
libs_for() {
	lib_flags=()
	lib_objs=()
	case $1 in
	bzip2-roundtrip) bzip2_lib "$2" ;;
	esac
}

# stale OUT IN...: whether OUT is missing or older than one of the INs.
stale() {
	local o=$1 i
	shift
	for i; do [[ $o -nt $i ]] || return 0; done
	return 1
}

cd "$TOP/examples"
for c in *.c; do
	name=${c%.c}
	libs_for "$name" wasm
	if stale "$out/$name.wasm" "$c" "${lib_objs[@]}"; then
		"$CLANG" --target=wasm32-wasi -O2 -Wall -Wextra -Werror "${lib_flags[@]}" \
			-Wl,--strip-all -o "$out/$name.wasm" "$c" "${lib_objs[@]}"
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
	libs_for "$name" native
	if stale "$native/$name" "$name.c" "${lib_objs[@]}"; then
		gcc -O2 -Wall -Wextra -Werror "${lib_flags[@]}" -o "$native/$name" "$name.c" \
			"${lib_objs[@]}"
	fi
	key=$name${args:+_${args// /_}}
	if [[ ! $out/expected/$key.md5 -nt $native/$name ]]; then
		# shellcheck disable=SC2086
		"$native/$name" $args </dev/null | md5sum | cut -d' ' -f1 >"$out/expected/$key.md5"
	fi
done <expected.list

# The Rust example, with rustup's toolchain (Debian's rustc has no wasm32
# standard library for 1.96): add the wasm32-wasip1 target to it if it lacks
# it. Where that cannot be had, say so and leave a note the VM test prints.
rust_skip() {
	log "examples: warning: hello-rust not built: $*"
	echo "$*" >"$out/hello-rust.skipped"
	rm -f "$out/hello-rust.wasm"
}
rust_example() {
	local rustc cargo libdir src=$TOP/examples/hello-rust
	command -v rustup >/dev/null || { rust_skip "no rustup toolchain"; return; }
	rustc=$(rustup which rustc) && cargo=$(rustup which cargo) ||
		{ rust_skip "rustup has no default toolchain"; return; }
	libdir=$("$rustc" --print target-libdir --target wasm32-wasip1)
	if ! compgen -G "$libdir/libstd-*.rlib" >/dev/null; then
		log "rustup: adding the wasm32-wasip1 target to $("$rustc" --version)"
		rustup target add wasm32-wasip1 ||
			{ rust_skip "rustup target add wasm32-wasip1 failed"; return; }
	fi
	if [[ -n $(find "$src" -newer "$out/hello-rust.wasm" -print -quit 2>/dev/null) ||
		! -f $out/hello-rust.wasm ]]; then
		RUSTC=$rustc CARGO_TARGET_DIR=$CACHE/examples-rust "$cargo" build -q --release \
			--locked --manifest-path "$src/Cargo.toml" --target wasm32-wasip1
		cp "$CACHE/examples-rust/wasm32-wasip1/release/hello-rust.wasm" "$out/"
		rm -f "$out/hello-rust.skipped"
		log "examples: hello-rust.wasm ($(stat -c %s "$out/hello-rust.wasm") bytes)"
	fi
}
rust_example
