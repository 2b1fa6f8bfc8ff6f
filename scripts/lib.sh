# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for the pipeline scripts. Every path that is expensive to
# rebuild lives under $CACHE, outside the tracked files.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasm-kernel}
TOOLS_DIR=$CACHE/tools
BINDGEN_VERSION=0.71.1
BINDGEN=$TOOLS_DIR/bin/bindgen
LIBCLANG_PATH=/usr/lib/llvm-19/lib
# The kernel must be built with Debian's rustc (it ships rust-src); the
# rustup toolchain in ~/.cargo/bin has none and shadows /usr/bin in PATH.
KRUSTC=/usr/bin/rustc
KRUSTDOC=/usr/bin/rustdoc
KRUSTFMT=/usr/bin/rustfmt
HOST_CARGO=$(command -v cargo || echo /usr/bin/cargo)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
sudo_() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

rust_lib_src() {
	local d
	for d in /usr/src/rustc-*/library; do if [[ -d $d ]]; then echo "$d"; fi; done | sort -V | tail -n1
}
RUST_LIB_SRC=${RUST_LIB_SRC:-$(rust_lib_src)}
