# SPDX-License-Identifier: GPL-2.0
#
# WebAssembly in the Linux kernel: the pipeline from Debian's pristine kernel
# source through this patch series to a Rust-enabled build, KUnit and a QEMU
# VM. Expensive outputs live in $(CACHE) (default ~/.cache/wasm-kernel),
# keyed by their inputs. Run `make help` for the targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help
S := scripts
CARGO ?= cargo
TOOLS := tools/wasm
# Cargo's build outputs live in the cache too, so that a fresh clone (CI)
# reuses them; cargo's fingerprints key them by their inputs.
CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/wasm-kernel
export CARGO_TARGET_DIR ?= $(CACHE)/cargo-target
CARGO_FLAGS := --manifest-path $(TOOLS)/Cargo.toml --locked

.PHONY: help setup tree kernel tools vm vm-test kunit kunit-um patches \
	check-patches lint docs host-test spec spec-kernel spec-kernel-fpu spec-kernel-threaded fuzz miri demo check bench \
	bench-report bench-smoke bench-kernel check-debug check-connector-m check-arm64 \
	check-bisect

help:
	@echo 'make demo          set up, build, boot the VM and show the runtime working'
	@echo 'make check         every test: host, KUnit (x86_64 under QEMU), VM, series'
	@echo
	@echo 'make setup         install the toolchain and build dependencies (apt, cargo)'
	@echo 'make tree          pristine Linux $(or $(KVER),7.3) + the series as git commits'
	@echo '                   (KERNEL_SRC=/path/to/linux: apply to your own git tree)'
	@echo 'make kernel        build the test VM kernel (incremental)'
	@echo 'make tools         build the userspace tools (tools/wasm)'
	@echo "make vm CMD='...'  boot the VM, run CMD as root in it, exit with its status"
	@echo 'make kunit         drivers/wasm KUnit suites on x86_64 under QEMU (kunit-um: UML)'
	@echo 'make check-arm64   the same KUnit suites built for arm64, under QEMU (TCG)'
	@echo 'make patches       regenerate patches/ from the series and check it'
	@echo 'make lint          rustfmt, make rustdoc and the docs over the kernel side (make kernel runs clippy)'
	@echo 'make docs          make htmldocs of the series documentation, warning-free'
	@echo 'make host-test     cargo fmt, clippy, tests and docs of tools/wasm'
	@echo 'make spec          the official WebAssembly 2.0 testsuite on the host engine'
	@echo 'make spec-kernel   the same testsuite through the protocol, in the kernel (VM)'
	@echo 'make spec-kernel-fpu  the same with wasm.fpu=1 (float arithmetic on the FPU)'
	@echo 'make spec-kernel-threaded  the same with wasm.threaded=1 (a call per instruction)'
	@echo 'make fuzz          bounded cargo-fuzz runs (FUZZ_SECONDS each, default 20)'
	@echo 'make miri          the engine'"'"'s unsafe interpreter core under Miri (nightly toolchain)'
	@echo 'make bench         the benchmarks on this engine, wasmi, wasm3, wasmtime and native;'
	@echo '                   regenerates Documentation/wasm/evaluation.rst (~5 minutes)'
	@echo 'make bench-smoke   every benchmark once on this engine, checked against native'
	@echo 'make bench-kernel  in the VM: the engine in the kernel vs in userspace, invoke latency'
	@echo 'make check-debug   KUnit, VM tests, testsuite and VM fuzz (with fault injection) on a'
	@echo '                   KASAN/lockdep/kmemleak kernel (tens of minutes; not part of check)'
	@echo 'make check-connector-m  the VM kernel with CONFIG_CONNECTOR=m builds (a third kernel;'
	@echo '                   not part of check)'
	@echo 'make check-bisect  build the VM kernel at every patch of the series, in order'
	@echo '                   (incremental, tens of minutes cold; not part of check)'

setup:
	@$(S)/setup.sh

tree: setup
	@$(S)/tree.sh

kernel: tree
	@$(S)/build-kernel.sh

tools: setup
	@$(CARGO) build -q --release $(CARGO_FLAGS) --workspace
	@$(S)/examples.sh

vm: kernel tools
	@$(S)/vm.sh "$(CMD)"

vm-test: kernel tools
	@$(S)/vm.sh /tests/run

kunit: tree
	@$(S)/kunit.sh x86_64

# The same suites cross-built for arm64 with LLVM, under qemu-system-aarch64.
check-arm64: tree
	@$(S)/kunit.sh arm64

kunit-um: tree
	@$(S)/kunit.sh um

patches: tree
	@$(S)/patches.sh

check-patches: tree
	@$(S)/patches.sh --check

lint: kernel docs
	@$(S)/lint-kernel.sh

docs: tree
	@$(S)/docs.sh

host-test: setup
	@$(CARGO) fmt --manifest-path $(TOOLS)/Cargo.toml --all --check
	@$(CARGO) clippy -q $(CARGO_FLAGS) --workspace --all-targets -- -D warnings
	@$(S)/examples.sh
	@WASM_EXAMPLES=$(CACHE)/examples WASM_EXAMPLES_NATIVE=$(CACHE)/examples-native \
		$(CARGO) test -q $(CARGO_FLAGS) --workspace
	@RUSTDOCFLAGS='-D warnings' $(CARGO) doc -q $(CARGO_FLAGS) --workspace --no-deps
	@$(CARGO) package -q --allow-dirty $(CARGO_FLAGS) -p netlink-packet-connector

# The engine as the kernel builds it on x86: without jump tables, so with its
# tiered dispatch (Documentation/wasm/engine.rst), in a target directory of its
# own that the benchmarks' control build shares.
NOJT_CARGO = CARGO_TARGET_DIR=$(CACHE)/cargo-target-nojt \
	RUSTFLAGS='-C jump-tables=n --cfg no_jump_tables' $(CARGO)

spec: setup
	@$(CARGO) run -q --release $(CARGO_FLAGS) -p wasm-spec
	@echo '==> spec: again, built as the kernel builds the engine: without jump tables (the tiered dispatch), integer square roots'
	@$(NOJT_CARGO) run -q --release $(CARGO_FLAGS) -p wasm-spec --no-default-features
	@echo '==> spec: again, built the same, with the threaded dispatch (wasm.threaded=1 in the kernel)'
	@$(NOJT_CARGO) run -q --release $(CARGO_FLAGS) -p wasm-spec --no-default-features -- --dispatch threaded

spec-kernel: kernel tools
	@$(S)/vm.sh 'wasm-spec --backend kernel'

# The same with float arithmetic on the FPU (wasm.fpu=1): bit-exact or it fails.
spec-kernel-fpu: kernel tools
	@VM_APPEND=wasm.fpu=1 $(S)/vm.sh 'dmesg | grep "wasm: .*float arithmetic on the FPU" && wasm-spec --backend kernel'

spec-kernel-threaded: kernel tools
	@VM_APPEND=wasm.threaded=1 $(S)/vm.sh 'dmesg | grep "wasm: .*threaded dispatch" && wasm-spec --backend kernel'

FUZZ_SECONDS ?= 20
fuzz: setup
	@$(S)/fuzz.sh $(FUZZ_SECONDS)

miri: setup
	@$(S)/miri.sh

# Not part of check: it takes minutes and wants a quiet machine.
bench: setup
	@$(S)/bench.sh run

bench-report:
	@$(S)/bench.sh report

bench-smoke: setup
	@$(S)/bench.sh smoke

bench-kernel: kernel tools
	@$(S)/bench.sh kernel

# Not part of check: it takes tens of minutes (a debug kernel under TCG).
check-debug: tree tools
	@$(S)/check-debug.sh

# Not part of check: a third kernel build, for a configuration that only has to build.
check-connector-m: tree
	@$(S)/build-kernel.sh connector-m

# Not part of check: a kernel build per patch, so that the series bisects.
check-bisect: tree
	@$(S)/check-bisect.sh

demo: kernel tools
	@$(S)/demo.sh

check: host-test spec bench-smoke fuzz miri check-patches docs lint kunit vm-test spec-kernel spec-kernel-fpu spec-kernel-threaded
	@echo 'check: all passed'
