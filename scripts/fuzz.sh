#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh [SECONDS]  run every cargo-fuzz target of tools/wasm for SECONDS
#                    (default 20) each; any crash fails. The fuzz crates are
#                    outside the workspace (libFuzzer needs sanitizer flags);
#                    RUSTC_BOOTSTRAP lets the stable toolchain build them.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-20}
[[ -x $CARGO_FUZZ ]] || die "cargo-fuzz missing: run make setup"
cd "$TOP"
for dir in tools/wasm/*/fuzz; do
	mapfile -t targets < <(cd "$dir" && "$CARGO_FUZZ" fuzz list)
	for t in "${targets[@]}"; do
		log "fuzz: ${dir%/fuzz} $t for ${secs}s"
		out="$CACHE/fuzz-$t.log"
		if ! (cd "$dir" && RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$CACHE/fuzz-target" \
			"$CARGO_FUZZ" fuzz run --release "$t" -- -max_total_time="$secs") >"$out" 2>&1; then
			tail -n 40 "$out"
			die "fuzz: $t failed (artifacts in $dir/artifacts/$t)"
		fi
		grep -E '^Done [0-9]+ runs' "$out" || true
	done
done
