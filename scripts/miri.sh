#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# miri.sh  run the engine's Miri tests: tools/wasm/engine/tests/miri.rs, small
#          programs that take every path of the interpreter's unsafe core
#          (drivers/wasm/engine/exec/interp.rs), and the fusion tests, which
#          run every fused instruction form, under Miri with Stacked Borrows
#          and strict provenance. Miri interprets: the three fusion tests
#          that loop 10^5 times or translate 33000 instructions are left to
#          the ordinary host tests.
#
# Miri needs a nightly toolchain with the miri and rust-src components: the
# machine's rustup has a nightly; the components (or, without one, a nightly)
# come from the Rust project's toolchain distribution on first use. Miri's own sysroot and target
# directory are kept in $CACHE.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUSTUP=$(command -v rustup || true)
[[ -n $RUSTUP ]] || die "miri: rustup not found (Miri needs a nightly toolchain)"
# Through rustup, not $HOST_CARGO: that may be Debian's cargo, which knows no
# toolchains.
nightly() { "$RUSTUP" run nightly "$@"; }
if ! nightly cargo miri --version >/dev/null 2>&1; then
	if nightly rustc --version >/dev/null 2>&1; then
		log "miri: adding the miri and rust-src components to the nightly toolchain"
		"$RUSTUP" component add --toolchain nightly miri rust-src ||
			die "miri: 'rustup component add --toolchain nightly miri rust-src' failed"
	else
		log "miri: installing a nightly toolchain with miri and rust-src"
		"$RUSTUP" toolchain install nightly --profile minimal --component miri,rust-src ||
			die "miri: 'rustup toolchain install nightly' failed"
	fi
fi
log "miri: $(nightly cargo miri --version 2>&1 | head -1)"

export MIRI_SYSROOT=$CACHE/miri-sysroot
export CARGO_TARGET_DIR=$CACHE/miri-target
export MIRIFLAGS="-Zmiri-strict-provenance ${MIRIFLAGS:-}"
cd "$TOP/tools/wasm"
start=$SECONDS
nightly cargo miri setup >/dev/null
nightly cargo miri test -q --locked -p wasm-engine --test miri
nightly cargo miri test -q --locked -p wasm-engine --test fusion -- \
	--skip loop_constants_live_in_the_frame --skip counted_loop_back_edge_fuses \
	--skip i32_pairs_fuse
log "miri: clean ($((SECONDS - start)) s)"
