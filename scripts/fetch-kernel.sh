#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's linux-source-$KVER package into the cache and print the path
# of the kernel tarball inside it. Uses a private apt sources list, state and
# cache directory: the system's apt configuration is never changed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

apt_dir=$CACHE/apt
mkdir -p "$apt_dir"/lists/partial "$apt_dir"/archives/partial "$CACHE/src"
printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
	"$DEBIAN_MIRROR" "$KSUITE" >"$apt_dir/sources.list"
apt_opts=(-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir"
	-o Dir::Cache::archives="$apt_dir/archives" -o APT::Sandbox::User=root)

tarball() { echo "$CACHE/src/linux-source-$KVER-$1.tar.xz"; }

if [[ -f $(tarball "$KDEB_VERSION") ]]; then
	tarball "$KDEB_VERSION"
	exit 0
fi

log "apt: updating the private index for $KSUITE"
apt-get "${apt_opts[@]}" -qq update
version=$KDEB_VERSION
if ! apt-cache "${apt_opts[@]}" madison "linux-source-$KVER" | awk '{print $3}' |
	grep -qxF "$version"; then
	newest=$(apt-cache "${apt_opts[@]}" madison "linux-source-$KVER" | awk '{print $3}' |
		sort -V | tail -n1)
	[[ -n $newest ]] || die "no linux-source-$KVER in $KSUITE any more: the series needs a rebase onto a newer base (set KVER/KDEB_VERSION)"
	log "warning: pinned linux-source-$KVER $version is gone from $KSUITE; using the newest, $newest"
	version=$newest
	[[ -f $(tarball "$version") ]] && { tarball "$version"; exit 0; }
fi

tmp=$(mktemp -d "$CACHE/src/fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "apt: downloading linux-source-$KVER=$version"
(cd "$tmp" && apt-get "${apt_opts[@]}" -qq download "linux-source-$KVER=$version")
dpkg-deb --fsys-tarfile "$tmp"/linux-source-*.deb |
	tar -xO --wildcards "./usr/src/linux-source-$KVER.tar.xz" >"$tmp/k.tar.xz"
mv "$tmp/k.tar.xz" "$(tarball "$version")"
tarball "$version"
