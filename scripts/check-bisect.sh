#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-bisect.sh  Build the VM kernel at every patch of the series, in order,
#                  so that the series stays bisectable: a patch that uses what
#                  only a later one adds fails here, as does a patch whose Rust
#                  has a warning or a clippy finding (CLIPPY=1, warnings are
#                  fatal, as in build-kernel.sh).
#
# One worktree of the kernel tree ($CACHE/bisect-src), moved from commit to
# commit, and one build directory ($BUILD_DIR/bisect): each step rebuilds what
# its patch changed. The configuration is the VM kernel's (tinyconfig +
# scripts/config/vm.config) as the whole series defines it, put back before
# every step's olddefconfig, which drops the options a patch does not know yet
# (CONFIG_WASM before the driver's patch, for example).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kgit() { git -C "$KERNEL_SRC" "$@"; }
src=$CACHE/bisect-src
out=$BUILD_DIR/bisect
mkdir -p "$out"
read -ra vars <<<"$(kmake_vars)"
kmake() { make -s -C "$src" O="$out" ARCH=x86_64 "${vars[@]}" "$@"; }

mapfile -t commits < <(kgit rev-list --reverse "refs/tags/$BASE_TAG..$SERIES_BRANCH")
((${#commits[@]})) || die "bisect: no series commits in $KERNEL_SRC"
if [[ ! -e $src/.git ]]; then
	kgit worktree prune
	log "bisect: adding the worktree $src"
	kgit worktree add -q --detach "$src" "${commits[-1]}"
fi

# The series' full configuration, made once at its last commit, as
# build-kernel.sh makes the VM kernel's.
full=$out/.bisect-full.config
want=$(sha256sum <"$TOP/scripts/config/vm.config" | cut -d' ' -f1)
git -C "$src" checkout -q --detach "${commits[-1]}"
if [[ ! -f $full || $(cat "$full.sha" 2>/dev/null) != "$want" ]]; then
	kconfig_from_fragments "$src" "$out" "$TOP/scripts/config/vm.config"
	cp "$out/.config" "$full"
	echo "$want" >"$full.sha"
fi

n=0
for c in "${commits[@]}"; do
	n=$((n + 1))
	subject=$(kgit log -1 --format=%s "$c")
	git -C "$src" checkout -q --detach "$c"
	cp "$full" "$out/.config"
	kmake olddefconfig >/dev/null
	start=$SECONDS
	kbuild_checked "$out" "bisect: the build at patch $n/${#commits[@]} ($subject)"
	log "bisect: $n/${#commits[@]} builds ($((SECONDS - start)) s): $subject"
done
log "bisect: all ${#commits[@]} patches build in order"
