#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [vm|debug|connector-m]  Build a test VM kernel out of tree in
# $BUILD_DIR/VARIANT, with the series applied:
#   vm     tinyconfig + scripts/config/vm.config (the default; `make kernel`)
#   debug  the same + scripts/config/debug.config, with clang (LLVM=-19): KASAN,
#          lockdep, kmemleak, fault injection (`make check-debug`)
#   connector-m  vm + scripts/config/connector-m.config: CONFIG_CONNECTOR=m
#          builds (`make check-connector-m`)
# Incremental: the config is regenerated only when a fragment changes, and
# make rebuilds only what the series changed. Rust goes through clippy
# (CLIPPY=1); warnings fail the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

variant=${1:-vm}
frags=("$TOP/scripts/config/vm.config")
extra=()
case $variant in
vm) ;;
debug)
	frags+=("$TOP/scripts/config/debug.config")
	# KASAN in a Rust kernel needs a clang-built C side (init/Kconfig).
	# LLVM=-19 takes LLVM's binutils too (llvm-nm-19, llvm-objcopy-19, ...).
	ensure_apt_pkgs llvm-19
	extra=(LLVM=-19)
	;;
connector-m)
	# The VM kernel with a modular connector: what must then be left out is,
	# and the rest (the kernel crate included) still builds.
	frags+=("$TOP/scripts/config/connector-m.config")
	;;
*) die "build-kernel.sh: unknown variant '$variant' (vm, debug or connector-m)" ;;
esac

out=$BUILD_DIR/$variant
mkdir -p "$out"
remove_stale_objects "$out"
read -ra vars <<<"$(kmake_vars)"
kmake() { make -s -C "$KERNEL_SRC" O="$out" ARCH=x86_64 "${vars[@]}" "${extra[@]}" "$@"; }

stamp=$out/.$variant.config.sha
want=$(cat "${frags[@]}" "$TOP/scripts/build-kernel.sh" "$TOP/scripts/lib.sh" | sha256sum | cut -d' ' -f1)
if [[ ! -f $out/.config || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
	log "kernel: configuring $variant (tinyconfig + ${frags[*]#"$TOP"/})"
	kconfig_from_fragments "$KERNEL_SRC" "$out" "${frags[@]}"
	echo "$want" >"$stamp"
fi
log "kernel: building $variant in $out (-j$JOBS, CLIPPY=1)"
kbuild_checked "$out" "kernel: the build"
rm -rf "$out/modroot"
kmake INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
log "kernel: $(kmake -s kernelrelease) $(du -h "$out/arch/x86/boot/bzImage" | cut -f1)"
