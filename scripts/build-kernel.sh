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
want=$(cat "${frags[@]}" "$TOP/scripts/build-kernel.sh" | sha256sum | cut -d' ' -f1)
if [[ ! -f $out/.config || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
	log "kernel: configuring $variant (tinyconfig + ${frags[*]#"$TOP"/})"
	kmake tinyconfig >/dev/null
	"$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
	kmake olddefconfig >/dev/null
	# merge_config does not fail on options that did not stick. A later
	# fragment overrides an earlier one: check each option's last setting.
	while IFS= read -r line; do
		if [[ $line == CONFIG_* ]]; then
			grep -qxF "$line" "$out/.config"
		else
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$out/.config"
		fi || die "kernel config: '$line' did not stick (is the Rust toolchain available? try: make -C $KERNEL_SRC O=$out ${vars[*]} ${extra[*]} rustavailable)"
	done < <(cat "${frags[@]}" | awk '
		/^CONFIG_/ { split($0, kv, "="); o = kv[1] }
		/^# CONFIG_.* is not set$/ { o = $2 }
		o != "" { last[o] = $0; if (!(o in seen)) { seen[o] = 1; order[++n] = o } }
		{ o = "" }
		END { for (i = 1; i <= n; i++) print last[order[i]] }')
	echo "$want" >"$stamp"
fi
log "kernel: building $variant in $out (-j$JOBS, CLIPPY=1)"
# Rust is compiled through clippy-driver, so every build is a clippy pass too;
# any compiler or clippy warning fails the build.
warnings=$out/.build-warnings
if ! kmake -j"$JOBS" CLIPPY=1 bzImage modules 2>"$warnings"; then
	cat "$warnings" >&2
	die "kernel: the build failed (above)"
fi
cat "$warnings" >&2
if grep -q 'warning' "$warnings"; then
	die "kernel: the build has warnings (above)"
fi
rm -rf "$out/modroot"
kmake INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
log "kernel: $(kmake -s kernelrelease) $(du -h "$out/arch/x86/boot/bzImage" | cut -f1)"
