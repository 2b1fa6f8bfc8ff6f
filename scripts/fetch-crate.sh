#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-crate.sh NAME VERSION SHA256  fetch one exact version of a crate from
#                                     the Rust crate registry with cargo,
#                                     check the .crate file's SHA-256, unpack
#                                     it into $CACHE/src/NAME-VERSION and
#                                     print that path. Cached: a second call
#                                     asks no registry.
#
# For third-party sources the examples build (never committed here): cargo is
# the registry's own client, and the checksum pins the very bytes.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=${1:?usage: fetch-crate.sh NAME VERSION SHA256}
version=${2:?usage: fetch-crate.sh NAME VERSION SHA256}
sha256=${3:?usage: fetch-crate.sh NAME VERSION SHA256}
dest=$CACHE/src/$name-$version
if [[ -f $dest/.crate-sha256 && $(cat "$dest/.crate-sha256") == "$sha256" ]]; then
	echo "$dest"
	exit 0
fi

mkdir -p "$CACHE/src"
tmp=$(mktemp -d "$CACHE/src/crate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A throwaway package that depends on exactly that version: `cargo fetch`
# downloads it (and the crates its build script would need) into a cargo home
# of our own, checked against the registry index's checksum.
mkdir -p "$tmp/fetch/src"
: >"$tmp/fetch/src/lib.rs"
cat >"$tmp/fetch/Cargo.toml" <<EOF
[package]
name = "fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$name = "=$version"
EOF
log "cargo: fetching crate $name $version"
CARGO_HOME=$CACHE/cargo-home "$HOST_CARGO" fetch -q --manifest-path "$tmp/fetch/Cargo.toml"
crate=$(find "$CACHE/cargo-home/registry/cache" -name "$name-$version.crate" | head -n1)
[[ -f $crate ]] || die "fetch-crate: cargo fetched no $name-$version.crate"
got=$(sha256sum "$crate" | cut -d' ' -f1)
[[ $got == "$sha256" ]] ||
	die "fetch-crate: $name-$version.crate has SHA-256 $got, not the pinned $sha256"
tar -xzf "$crate" -C "$tmp"
[[ -d $tmp/$name-$version ]] || die "fetch-crate: $name-$version.crate holds no $name-$version/"
echo "$sha256" >"$tmp/$name-$version/.crate-sha256"
rm -rf "$dest"
mv "$tmp/$name-$version" "$dest"
echo "$dest"
