#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel-side style checks a Rust-for-Linux reviewer runs first:
# rustfmt with the kernel's configuration over the series' Rust files (not
# the vendored crates), and `make rustdoc` over the kernel crate. The clippy
# pass is part of every test kernel build (CLIPPY=1, see build-kernel.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cd "$TOP"
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- \
	'rust/*.rs' 'samples/*.rs' 'drivers/wasm/*.rs' 'drivers/wasm/engine/*.rs' \
	'drivers/wasm/engine/**/*.rs' \
	':!rust/wasmparser' ':!rust/bitflags' | sort -u)
"$KRUSTFMT" --edition 2021 --check --config-path "$KERNEL_SRC/.rustfmt.toml" "${files[@]}" ||
	die "rustfmt: run '$KRUSTFMT --edition 2021 --config-path $KERNEL_SRC/.rustfmt.toml FILE'"
log "lint: rustfmt clean (${#files[@]} files)"

"$TOP/scripts/c-to-wasm.sh" --check
log "lint: drivers/wasm/testdata is what clang compiles today"

read -ra vars <<<"$(kmake_vars)"

# The uapi header as the kernel's header test (usr/include/Makefile,
# CONFIG_UAPI_HEADER_TEST) checks every installed uapi header: C90 and C++98,
# included twice (a missing guard fails), then headers_check.pl.
make -s -C "$KERNEL_SRC" O="$BUILD_DIR/vm" ARCH=x86_64 "${vars[@]}" headers
uapi=$BUILD_DIR/vm/usr/include
for lang in 'c -std=c90' 'c++ -std=c++98'; do
	# shellcheck disable=SC2086 # the language and its standard are two words
	gcc -Wall -Werror -fsyntax-only -nostdinc -I "$uapi" -x $lang /dev/null \
		-include "$uapi/linux/wasm.h" -include "$uapi/linux/wasm.h" ||
		die "include/uapi/linux/wasm.h does not compile as ${lang%% *}"
done
perl "$KERNEL_SRC/usr/include/headers_check.pl" "$uapi" "$uapi/linux/wasm.h"
log "lint: include/uapi/linux/wasm.h passes the uapi header test"

outp=$(mktemp)
trap 'rm -f "$outp"' EXIT
if ! make -s -C "$KERNEL_SRC" O="$BUILD_DIR/vm" ARCH=x86_64 "${vars[@]}" -j"$JOBS" rustdoc >"$outp" 2>&1 ||
	grep -q 'warning' "$outp"; then
	cat "$outp"
	die "make rustdoc is not clean"
fi
log "lint: make rustdoc clean"
