# SPDX-License-Identifier: GPL-2.0
#
# Shared settings for the pipeline scripts. Every path that is expensive to
# rebuild lives under $CACHE, outside the tracked files.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/wasm-kernel}
TOOLS_DIR=$CACHE/tools
# Cargo's outputs, as the Makefile sets them (for scripts run on their own).
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/cargo-target}
BINDGEN_VERSION=0.71.1
BINDGEN=$TOOLS_DIR/bin/bindgen
CARGO_FUZZ_VERSION=0.13.2
CARGO_FUZZ=$TOOLS_DIR/bin/cargo-fuzz
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

# ensure_apt_pkgs PKG...  Install those of the packages that are missing, from
# Debian's archive.
ensure_apt_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			missing+=("$p")
	done
	if ((${#missing[@]} == 0)); then
		log "apt: all $# packages present"
		return 0
	fi
	log "apt: installing ${missing[*]}"
	sudo_ apt-get update -qq || die "apt-get update failed"
	# bookworm-security first: it has the Rust toolchain the kernel needs
	# (rustc-web). A package whose security version is older than the one
	# bookworm's point release installed with its siblings (qemu-system-arm
	# next to qemu-system-x86) cannot come from there: then apt's default.
	sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-t bookworm-security --no-install-recommends "${missing[@]}" ||
		sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "${missing[@]}" ||
		die "apt-get install ${missing[*]} failed"
}

rust_lib_src() {
	local d
	for d in /usr/src/rustc-*/library; do if [[ -d $d ]]; then echo "$d"; fi; done | sort -V | tail -n1
}
RUST_LIB_SRC=${RUST_LIB_SRC:-$(rust_lib_src)}

# The pristine base: Debian's linux-source package, one exact version.
KVER=${KVER:-7.3}
KDEB_VERSION=${KDEB_VERSION:-7.3.4-1~bpo13+1}
KSUITE=${KSUITE:-trixie-backports}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The kernel git tree: the pristine base as its first commit, the series on
# top as branch $SERIES_BRANCH. KERNEL_SRC points at a user's own tree.
KERNEL_SRC=${KERNEL_SRC:-$CACHE/linux-$KVER}
SERIES_BRANCH=${SERIES_BRANCH:-wasm}
BASE_TAG=${BASE_TAG:-wasm-base}
# Fixed identity and date for the series commits, so that `make patches` is
# reproducible byte for byte on any machine.
SERIES_DATE='2026-11-24T12:00:00+00:00'

# git with the series' fixed identity and dates.
series_git() {
	local who name email
	who=$(sed -n 's/^Author: //p' "$TOP/series/config")
	name=${who% <*}
	email=${who##*<}
	email=${email%>}
	GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email \
	GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email \
	GIT_AUTHOR_DATE=$SERIES_DATE GIT_COMMITTER_DATE=$SERIES_DATE \
		git -c commit.gpgsign=false -c gc.auto=0 -c core.abbrev=12 "$@"
}

BUILD_DIR=${BUILD_DIR:-$CACHE/build}
JOBS=${JOBS:-$(nproc)}
# Every kernel make gets the toolchain on its command line: the top Makefile
# assigns RUSTC & co., so environment variables are not enough, and without
# them CONFIG_RUST silently disappears from the config.
kmake_vars() {
	echo RUSTC="$KRUSTC" RUSTDOC="$KRUSTDOC" RUSTFMT="$KRUSTFMT" \
		CLIPPY_DRIVER=/usr/bin/clippy-driver BINDGEN="$BINDGEN" \
		RUST_LIB_SRC="$(rust_lib_src)"
}
export LIBCLANG_PATH

# Paths of vendored third-party crates: imported unmodified, exempt from
# checkpatch (as upstream's rust/syn/ is); MAINTAINERS lists them in their own
# entry, not in the subsystem's.
VENDORED_RE='^rust/(wasmparser|bitflags)/'

# Objects an earlier version of the series built in drivers/wasm/ (its private
# alloc, allocator shim and vendored crates, now built by rust/Makefile). A
# stale lib*.rmeta there would be a second candidate for `--extern alloc`, and
# once it is gone make does not rebuild the crates whose dep-info names it
# (a missing prerequisite is not newer), which then reference a crate that is
# no longer there. So if one is found, the directory's objects all go.
remove_stale_objects() {
	local d=$1/drivers/wasm c
	for c in alloc wasm_alloc bitflags wasmparser; do
		if [[ -e $d/lib$c.rmeta ]]; then
			log "build: removing $d, built by an older layout of the series"
			rm -rf "$d"
			return
		fi
	done
}

# kconfig_from_fragments SRC OUT FRAGMENT...  Configure the kernel in SRC for
# the build directory OUT: tinyconfig, then the fragments (a later one
# overrides an earlier one), then olddefconfig. merge_config does not fail on
# options that did not stick, so check each option's last setting. Runs make
# through the caller's `kmake` function (the same SRC and OUT).
kconfig_from_fragments() {
	local src=$1 out=$2 line opt
	shift 2
	kmake tinyconfig >/dev/null
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$@" >/dev/null
	kmake olddefconfig >/dev/null
	while IFS= read -r line; do
		if [[ $line == CONFIG_* ]]; then
			grep -qxF "$line" "$out/.config"
		else
			opt=${line#\# }
			opt=${opt%% *}
			! grep -q "^$opt=" "$out/.config"
		fi || die "kernel config: '$line' did not stick (is the Rust toolchain available? try: make -C $src O=$out $(kmake_vars) rustavailable)"
	done < <(cat "$@" | awk '
		/^CONFIG_/ { split($0, kv, "="); o = kv[1] }
		/^# CONFIG_.* is not set$/ { o = $2 }
		o != "" { last[o] = $0; if (!(o in seen)) { seen[o] = 1; order[++n] = o } }
		{ o = "" }
		END { for (i = 1; i <= n; i++) print last[order[i]] }')
}

# kbuild_checked OUT WHAT  Build bzImage and modules with the caller's `kmake`,
# in OUT. Rust is compiled through clippy-driver, so every build is a clippy
# pass too; a failed build, or any compiler or clippy warning, ends the script
# with "WHAT failed" or "WHAT has warnings".
kbuild_checked() {
	local out=$1 what=$2 warnings=$1/.build-warnings
	if ! kmake -j"$JOBS" CLIPPY=1 bzImage modules 2>"$warnings"; then
		cat "$warnings" >&2
		die "$what failed (above)"
	fi
	cat "$warnings" >&2
	if grep -q 'warning' "$warnings"; then
		die "$what has warnings (above)"
	fi
}
