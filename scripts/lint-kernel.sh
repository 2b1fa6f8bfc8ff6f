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
	':!drivers/wasm/wasmparser' ':!drivers/wasm/bitflags' | sort -u)
"$KRUSTFMT" --edition 2021 --check --config-path "$KERNEL_SRC/.rustfmt.toml" "${files[@]}" ||
	die "rustfmt: run '$KRUSTFMT --edition 2021 --config-path $KERNEL_SRC/.rustfmt.toml FILE'"
log "lint: rustfmt clean (${#files[@]} files)"

"$TOP/scripts/c-to-wasm.sh" --check
log "lint: drivers/wasm/testdata is what clang compiles today"

read -ra vars <<<"$(kmake_vars)"
outp=$(mktemp)
trap 'rm -f "$outp"' EXIT
if ! make -s -C "$KERNEL_SRC" O="$BUILD_DIR/vm" ARCH=x86_64 "${vars[@]}" -j"$JOBS" rustdoc >"$outp" 2>&1 ||
	grep -q 'warning' "$outp"; then
	cat "$outp"
	die "make rustdoc is not clean"
fi
log "lint: make rustdoc clean"
