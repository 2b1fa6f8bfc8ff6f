#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install everything the pipeline needs, idempotently, from Debian's archive
# and the Rust crate registry. Nothing here changes the system's apt configuration.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_pkgs=(
	# Rust-for-Linux toolchain: rustc/rustdoc/cargo/rustfmt/clippy 1.96 and
	# the library source the kernel builds `core` from.
	rustc-web rust-web-src cargo-web rustfmt-web rust-web-clippy
	# bindgen-cli links against libclang; 7.3 needs >= 17.
	libclang-19-dev
	# clang and wasm-ld compile the KUnit suites' C test program and the
	# examples to wasm; wasi-libc and its builtins make WASI programs of C.
	clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32
	# Kernel build dependencies.
	gcc make flex bison bc libelf-dev libssl-dev cpio xz-utils python3 kmod
	# The VM: busybox for the initramfs, QEMU under TCG.
	busybox-static qemu-system-x86
	# Debian's kernel source package and the git tree we turn it into.
	git dpkg-dev ca-certificates
	# checkpatch.pl runs spdxcheck.py with these (Debian's python3).
	python3-ply python3-git
	# make htmldocs: Documentation/sphinx/requirements.txt (Sphinx,
	# alabaster, PyYAML) as Debian packages it, and dot for kernel-figure.
	python3-sphinx python3-alabaster python3-yaml graphviz
	# make bench: a venv for wasm3 and wasmtime from PyPI (pywasm3 is built
	# from source); clang-19 and lld-19 above build the benchmarks to wasm.
	python3-venv python3-dev
)

ensure_apt_pkgs "${apt_pkgs[@]}"

# bindgen from the Rust crate registry, pinned, in our own cache (not ~/.cargo/bin).
if [[ ! -x $BINDGEN ]] || ! "$BINDGEN" --version | grep -q " $BINDGEN_VERSION\$"; then
	log "cargo: installing bindgen-cli $BINDGEN_VERSION into $TOOLS_DIR"
	LIBCLANG_PATH=$LIBCLANG_PATH env -u CARGO_TARGET_DIR "$HOST_CARGO" install --quiet --locked \
		--root "$TOOLS_DIR" bindgen-cli --version "$BINDGEN_VERSION"
else
	log "cargo: bindgen-cli $BINDGEN_VERSION present"
fi

# cargo-fuzz for the bounded fuzz runs of make check, pinned, same place.
if [[ ! -x $CARGO_FUZZ ]] || ! "$CARGO_FUZZ" --version | grep -q " $CARGO_FUZZ_VERSION\$"; then
	log "cargo: installing cargo-fuzz $CARGO_FUZZ_VERSION into $TOOLS_DIR"
	env -u CARGO_TARGET_DIR "$HOST_CARGO" install --quiet --locked --root "$TOOLS_DIR" cargo-fuzz \
		--version "$CARGO_FUZZ_VERSION"
else
	log "cargo: cargo-fuzz $CARGO_FUZZ_VERSION present"
fi

for t in "$KRUSTC" "$KRUSTDOC" "$KRUSTFMT" "$BINDGEN"; do
	log "tool: $t: $("$t" --version | head -n1)"
done
RUST_LIB_SRC=${RUST_LIB_SRC:-$(rust_lib_src)}
[[ -d $RUST_LIB_SRC ]] || die "Rust library source not found at $RUST_LIB_SRC"
log "setup: done"
