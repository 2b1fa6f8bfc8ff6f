#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh run     the benchmark suite (tools/wasm/bench): this engine, wasmi,
#                  wasm3, wasmtime and native code, interleaved; regenerates
#                  Documentation/wasm/evaluation.rst, its plots and raw data
# bench.sh report  regenerate the report from the raw data only
# bench.sh smoke   every benchmark once, small, on this engine, checked against
#                  native code (part of make check)
# bench.sh kernel  in the test VM: each benchmark in the kernel against the same
#                  engine in the guest's userspace, and INVOKE latency against a
#                  connector echo; regenerates Documentation/wasm/evaluation-kernel.rst
#
# The runtimes to compare with are installed here, pinned, into $CACHE:
# wasmi's command line with cargo, wasm3 and wasmtime from PyPI into a venv.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-run}
WASMI_VERSION=2.0.0
PYWASM3_VERSION=0.5.0
WASMTIME_PY_VERSION=51.0.0
VENV=$CACHE/bench-venv
# Debian's Python, whatever else is first in PATH (its venv module and headers
# come with setup.sh's packages; pywasm3 is built from source).
SYS_PYTHON=/usr/bin/python3

export BENCH_CLANG=${CLANG:-/usr/lib/llvm-19/bin/clang}
export BENCH_CC=${BENCH_CC:-gcc}
export BENCH_BUILD=$CACHE/bench/build
export BENCH_ENGINE=${CARGO_TARGET_DIR:-$CACHE/cargo-target}/release/wasm-bench
export BENCH_ENGINE_A32=$CACHE/cargo-target-aligned/release/wasm-bench
export BENCH_WASMI=$TOOLS_DIR/bin/wasmi
export BENCH_PYTHON=$VENV/bin/python
export BENCH_RUSTC=$(command -v rustc || echo /usr/bin/rustc)
[[ -x $BENCH_CLANG ]] || die "bench: $BENCH_CLANG missing: run make setup"

install_runtimes() {
	if [[ ! -x $BENCH_WASMI ]] || ! "$BENCH_WASMI" --version | grep -q " $WASMI_VERSION\$"; then
		log "cargo: installing wasmi_cli $WASMI_VERSION into $TOOLS_DIR"
		"$HOST_CARGO" install --quiet --locked --root "$TOOLS_DIR" wasmi_cli \
			--version "$WASMI_VERSION"
	else
		log "cargo: wasmi_cli $WASMI_VERSION present"
	fi
	local want="pywasm3==$PYWASM3_VERSION wasmtime==$WASMTIME_PY_VERSION"
	if [[ ! -x $BENCH_PYTHON ]] || [[ $(cat "$VENV/.installed" 2>/dev/null) != "$want" ]]; then
		log "pip: installing $want into $VENV"
		rm -rf "$VENV"
		"$SYS_PYTHON" -m venv "$VENV"
		# shellcheck disable=SC2086
		"$VENV/bin/pip" install --quiet --disable-pip-version-check $want
		echo "$want" >"$VENV/.installed"
	else
		log "pip: $want present"
	fi
}

build_engine_runner() {
	"$HOST_CARGO" build -q --release --manifest-path "$TOP/tools/wasm/Cargo.toml" --locked \
		-p wasm-bench
}

# The control for code layout (see evaluation.rst.in): the same runner with the
# interpreter loop's header aligned to 32 bytes, in a target directory of its own.
build_engine_runner_aligned() {
	CARGO_TARGET_DIR=$CACHE/cargo-target-aligned RUSTFLAGS="-C llvm-args=-align-loops=32" \
		"$HOST_CARGO" build -q --release --manifest-path "$TOP/tools/wasm/Cargo.toml" \
		--locked -p wasm-bench
}

# The kernel's code generation on the host CPU (see evaluation.rst.in): the runner without
# jump tables, in the target directory `make spec` builds the same way.
export BENCH_ENGINE_NOJT=$CACHE/cargo-target-nojt/release/wasm-bench
build_engine_runner_nojt() {
	CARGO_TARGET_DIR=$CACHE/cargo-target-nojt \
		RUSTFLAGS="-C jump-tables=n --cfg no_jump_tables" \
		"$HOST_CARGO" build -q --release --manifest-path "$TOP/tools/wasm/Cargo.toml" \
		--locked -p wasm-bench
}

# The control for the kernel's code generation (see evaluation-kernel.rst):
# wasmctl for the guest with no jump tables, as the kernel builds Rust (IBT and
# retpolines forbid them), so with the tiered dispatch the kernel's build gets,
# in the target directory `make spec` builds the same way.
export BENCH_WASMCTL_NOJT=$CACHE/cargo-target-nojt/release/wasmctl
build_wasmctl_nojt() {
	CARGO_TARGET_DIR=$CACHE/cargo-target-nojt \
		RUSTFLAGS="-C jump-tables=n --cfg no_jump_tables" \
		"$HOST_CARGO" build -q --release --manifest-path "$TOP/tools/wasm/Cargo.toml" \
		--locked -p wasmctl
}

# The QEMU plugin that counts what the engine's code executes in the VM (see
# tools/wasm/bench/tcg-count.c), and where that code is.
export BENCH_TCG_PLUGIN=$CACHE/bench/tcg-count.so
export BENCH_WASMCTL=${CARGO_TARGET_DIR:-$CACHE/cargo-target}/release/wasmctl
build_tcg_plugin() {
	mkdir -p "$(dirname "$BENCH_TCG_PLUGIN")"
	gcc -O2 -Wall -shared -fPIC -o "$BENCH_TCG_PLUGIN" "$TOP/tools/wasm/bench/tcg-count.c"
	BENCH_WASM_KO=$(find "$BUILD_DIR/vm/modroot" -name wasm.ko | head -n 1)
	[[ -n $BENCH_WASM_KO ]] || die "no wasm.ko under $BUILD_DIR/vm/modroot"
	export BENCH_WASM_KO
}

# No __pycache__ in the source tree.
export PYTHONDONTWRITEBYTECODE=1
cd "$TOP"
case $mode in
run)
	install_runtimes
	build_engine_runner
	build_engine_runner_aligned
	build_engine_runner_nojt
	"$SYS_PYTHON" tools/wasm/bench/bench.py run
	;;
report)
	"$SYS_PYTHON" tools/wasm/bench/bench.py report
	;;
smoke)
	build_engine_runner
	"$SYS_PYTHON" tools/wasm/bench/bench.py smoke
	;;
kernel)
	build_wasmctl_nojt
	build_tcg_plugin
	"$SYS_PYTHON" tools/wasm/bench/kernel.py run
	;;
*)
	die "usage: bench.sh run|report|smoke|kernel"
	;;
esac
