#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh [SECONDS]  run every cargo-fuzz target of tools/wasm for SECONDS
#                    (default 20) each; any crash fails. The fuzz crates are
#                    outside the workspace (libFuzzer needs sanitizer flags);
#                    RUSTC_BOOTSTRAP lets the stable toolchain build them.
#
# Every run starts from an empty corpus in $CACHE/fuzz-corpus (so that its
# time stays bounded: libFuzzer runs its whole corpus before the clock can
# stop it) plus read-only seeds written from the official testsuite by
# tools/wasm/spec's fuzz-seeds example: the testsuite's modules for
# run_module, protocol messages for the protocol's decoder. The differential
# target reads its input as wasm-smith's random choices, not as a module:
# it starts from nothing. The differential target runs a second time built
# as the kernel builds the engine, without jump tables.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

secs=${1:-20}
[[ -x $CARGO_FUZZ ]] || die "cargo-fuzz missing: run make setup"
cd "$TOP"

seeds=$CACHE/fuzz-seeds
log "fuzz: seeds from the testsuite into $seeds"
"$HOST_CARGO" run -q --release --manifest-path tools/wasm/Cargo.toml --locked \
	-p wasm-spec --example fuzz-seeds -- "$seeds"

# The seed directory of target $2 of crate $1, if it has one.
seeds_of() {
	case $1/$2 in
	engine/run_module) echo "$seeds/run_module" ;;
	protocol/decode) echo "$seeds/decode" ;;
	esac
}

# libFuzzer options of target $2 of crate $1 beyond the time limit.
options_of() {
	case $1/$2 in
	# wasm-smith needs kilobytes of input for modules worth comparing: give
	# the mutator the whole length at once rather than growing it slowly.
	engine/differential) echo -max_len=16384 -len_control=0 ;;
	esac
}

# fuzz_one CRATE TARGET [VARIANT RUSTFLAGS]: one bounded run; a variant is a
# build with extra RUSTFLAGS, in a target directory of its own.
fuzz_one() {
	local crate=$1 t=$2 variant=${3:-} flags=${4:-}
	local dir=tools/wasm/$crate/fuzz name=$crate-$t${variant:+-$variant}
	log "fuzz: $crate $t${variant:+ ($variant)} for ${secs}s"
	local out="$CACHE/fuzz-$name.log" corpus="$CACHE/fuzz-corpus/$name"
	rm -rf "$corpus"
	mkdir -p "$corpus"
	local dirs=("$corpus") s
	s=$(seeds_of "$crate" "$t")
	if [[ -n $s ]]; then dirs+=("$s"); fi
	# cargo-fuzz adds its own flags to RUSTFLAGS.
	# shellcheck disable=SC2046 # the options are words
	if ! (cd "$dir" && RUSTC_BOOTSTRAP=1 RUSTFLAGS="$flags" \
		CARGO_TARGET_DIR="$CACHE/fuzz-target${variant:+-$variant}" \
		"$CARGO_FUZZ" fuzz run --release "$t" "${dirs[@]}" -- \
		-max_total_time="$secs" $(options_of "$crate" "$t")) >"$out" 2>&1; then
		tail -n 40 "$out"
		die "fuzz: $crate $t${variant:+ ($variant)} failed (artifacts in $dir/artifacts/$t)"
	fi
	grep -E '^Done [0-9]+ runs' "$out" || true
}

for dir in tools/wasm/*/fuzz; do
	crate=${dir#tools/wasm/}
	crate=${crate%/fuzz}
	mapfile -t targets < <(cd "$dir" && "$CARGO_FUZZ" fuzz list)
	for t in "${targets[@]}"; do
		fuzz_one "$crate" "$t"
	done
done
# The kernel's dispatch: without jump tables, the interpreter runs its tiered
# copies of the instruction `match` (see drivers/wasm/engine/exec/interp.rs),
# which the runs above never execute.
fuzz_one engine differential nojt '-C jump-tables=n --cfg no_jump_tables'
