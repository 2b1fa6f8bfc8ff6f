#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# kunit.sh [x86_64|um|arm64]  Run the drivers/wasm KUnit suites through
# kunit.py. x86_64 runs under QEMU with TCG (see scripts/qemu-tcg); um runs
# natively and is the fast one for iterating; arm64 is cross-built with
# LLVM (clang, lld: no GNU cross toolchain needed) and runs under
# qemu-system-aarch64 (TCG). Fails on any failed or crashed test, or when
# no drivers/wasm suite ran.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

arch=${1:-x86_64}
build_dir=$BUILD_DIR/kunit-$arch
mkdir -p "$BUILD_DIR"
remove_stale_objects "$build_dir"
read -ra vars <<<"$(kmake_vars)"
kunit_opts=()
if [[ $arch == arm64 ]]; then
	# LLVM=-19 cross-builds with clang and LLVM's binutils (llvm-nm-19,
	# llvm-objcopy-19, ...), which llvm-19 has; clang-19 and lld-19 are
	# setup's.
	ensure_apt_pkgs qemu-system-arm llvm-19
	vars+=(LLVM=-19)
	# The virt machine's PL031 sets the real-time clock at boot, as the CMOS
	# clock does on x86_64 (the host API's clock test wants a real date).
	kunit_opts+=(--kconfig_add CONFIG_RTC_CLASS=y --kconfig_add CONFIG_RTC_DRV_PL031=y)
fi
# The suites are driver code too: clippy checks them as it checks the VM
# kernel's build, and any Rust or clippy warning fails the build (kunit.py
# shows a failed build's messages, not a passing one's warnings).
vars+=(CLIPPY=1 KRUSTFLAGS=-Dwarnings)
make_opts=()
for v in "${vars[@]}"; do make_opts+=(--make_options "$v"); done

outp=$(mktemp)
trap 'rm -f "$outp"' EXIT
log "kunit: drivers/wasm on $arch (build dir $build_dir)"
{
	rc=0
	(
		cd "$KERNEL_SRC"
		PATH=$TOP/scripts/qemu-tcg:/usr/bin:$PATH python3 tools/testing/kunit/kunit.py run \
			--arch="$arch" --kunitconfig=drivers/wasm --build_dir="$build_dir" \
			--jobs="$JOBS" --timeout="${KUNIT_TIMEOUT:-300}" \
			--kernel_args=oops=panic --kernel_args=panic=-1 "${kunit_opts[@]}" "${make_opts[@]}"
	) 2>&1 || rc=$?
	echo "$rc" >"$outp.rc"
} | tee "$outp" | grep --line-buffered -E '^\[[0-9:]+\] .*(ok|Testing|Ran|Building|Configuring|Starting|Elapsed)' || true
rc=$(cat "$outp.rc")
rm -f "$outp.rc"
if ((rc != 0)); then
	grep -vE '^\[[0-9:]+\] ' "$outp" | tail -n 40 >&2
	die "kunit ($arch): kunit.py failed (exit $rc)"
fi
grep -q 'wasm_' "$outp" || die "kunit ($arch): no drivers/wasm suite ran"
grep -E 'Testing complete\.' "$outp" | sed 's/^\[[0-9:]*\] //'
