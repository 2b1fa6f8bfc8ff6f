#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the test VM kernel (tinyconfig + scripts/config/vm.config) out of
# tree in $BUILD_DIR/vm, with the series applied. Incremental: the config is
# regenerated only when the fragment changes, and make rebuilds only what the
# series changed. Rust goes through clippy (CLIPPY=1); warnings fail the build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

out=$BUILD_DIR/vm
mkdir -p "$out"
read -ra vars <<<"$(kmake_vars)"
kmake() { make -s -C "$KERNEL_SRC" O="$out" ARCH=x86_64 "${vars[@]}" "$@"; }

frag=$TOP/scripts/config/vm.config
stamp=$out/.vm.config.sha
want=$(cat "$frag" "$TOP/scripts/build-kernel.sh" | sha256sum | cut -d' ' -f1)
if [[ ! -f $out/.config || $(cat "$stamp" 2>/dev/null) != "$want" ]]; then
	log "kernel: configuring (tinyconfig + ${frag#"$TOP"/})"
	kmake tinyconfig >/dev/null
	"$KERNEL_SRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null
	kmake olddefconfig >/dev/null
	# merge_config does not fail on options that did not stick.
	while IFS= read -r line; do
		[[ $line == CONFIG_* ]] || continue
		grep -qxF "$line" "$out/.config" ||
			die "kernel config: $line did not stick (is the Rust toolchain available? try: make -C $KERNEL_SRC O=$out ${vars[*]} rustavailable)"
	done <"$frag"
	echo "$want" >"$stamp"
fi
log "kernel: building in $out (-j$JOBS, CLIPPY=1)"
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
