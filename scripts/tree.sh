#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Make the kernel git tree: the pristine Debian source as the first commit
# (tagged $BASE_TAG), then the series from series/ as commits on branch
# $SERIES_BRANCH, checked out. With KERNEL_SRC=/path/to/linux, the user's own
# git tree is used instead and its HEAD is the base.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

if [[ ! -d $KERNEL_SRC/.git ]]; then
	[[ -e $KERNEL_SRC ]] && die "$KERNEL_SRC exists but is not a git tree"
	tarball=$("$TOP/scripts/fetch-kernel.sh")
	debver=${tarball##*/linux-source-$KVER-}
	debver=${debver%.tar.xz}
	tmp=$KERNEL_SRC.tmp
	rm -rf "$tmp"
	mkdir -p "$tmp"
	log "tree: unpacking $(basename "$tarball")"
	tar -xJf "$tarball" -C "$tmp" --strip-components=1
	log "tree: making the pristine base commit"
	(
		cd "$tmp"
		git init -q -b pristine
		# No automatic gc: a detached `gc --auto` after the big first commit
		# would keep running (and lock HEAD) after the tree is moved into
		# place, making the series' checkout below fail.
		git config gc.auto 0
		git config maintenance.auto false
		git add -A -f
		series_git commit -q -m "Linux ${debver%%-*} (Debian linux-source-$KVER $debver)"
		git tag "$BASE_TAG"
	)
	mv "$tmp" "$KERNEL_SRC"
elif ! git -C "$KERNEL_SRC" rev-parse -q --verify "refs/tags/$BASE_TAG^{commit}" >/dev/null; then
	# A user's own tree: its current HEAD (before our series) is the base.
	log "tree: $KERNEL_SRC is a user tree; tagging its HEAD as $BASE_TAG"
	git -C "$KERNEL_SRC" tag "$BASE_TAG" HEAD
fi

"$TOP/scripts/apply-series.sh"
