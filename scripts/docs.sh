#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The series' documentation, built as the kernel builds it: `make htmldocs`
# in the kernel tree, with Debian's Sphinx and the kernel's conf.py and
# extensions, and no warning allowed.
#
# - Documentation/wasm/ is a SPHINXDIRS of its own, built with -W.
# - Documentation/userspace-api/wasm.rst and Documentation/admin-guide/wasm.rst
#   live in large directories whose full build takes minutes and, built on
#   their own (SPHINXDIRS), warns about references to other directories. So
#   each is built with only its index.rst and our wasm.rst
#   (include_patterns): any warning fails but the index's references to the
#   documents left out. A document missing from its index's toctree warns
#   too, so the series' index fragments are checked.
# - References to Documentation/ files from the series' documents must name
#   files that exist (the kernel's documentation-file-ref-check).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

command -v sphinx-build >/dev/null || die "docs: sphinx-build missing: run make setup"
out=$BUILD_DIR/docs
log_file=$(mktemp)
trap 'rm -f "$log_file"' EXIT
start=$SECONDS
htmldocs() { make -s -C "$KERNEL_SRC" O="$out" "$@" htmldocs; }

log "docs: make htmldocs SPHINXDIRS=wasm SPHINXOPTS='-W --keep-going'"
if ! htmldocs SPHINXDIRS=wasm SPHINXOPTS="-W --keep-going" >"$log_file" 2>&1 ||
	grep -qiE 'warning|error' "$log_file"; then
	cat "$log_file"
	die "docs: Documentation/wasm/ does not build cleanly"
fi

for dir in userspace-api admin-guide; do
	log "docs: make htmldocs SPHINXDIRS=$dir, only index.rst and wasm.rst"
	rc=0
	htmldocs SPHINXDIRS="$dir" SPHINXOPTS="--keep-going -D include_patterns=index.rst,wasm.rst" \
		>"$log_file" 2>&1 || rc=$?
	others=$(grep -iE 'warning|error' "$log_file" |
		grep -vE "/Documentation/$dir/index\.rst:[0-9]+: WARNING: toctree contains reference to nonexisting document '[^']+'$" || true)
	if ((rc)) || [[ -n $others ]]; then
		cat "$log_file"
		die "docs: Documentation/$dir/wasm.rst does not build cleanly"
	fi
	[[ -f $out/Documentation/output/$dir/wasm.html ]] ||
		die "docs: no $dir/wasm.html: is wasm in Documentation/$dir/index.rst?"
done

# documentation-file-ref-check scans the whole tree; keep what the files the
# series adds or changes say. A stale reference in a document fails; one in
# code only warns (its comment is the code owner's to fix).
refs=$(cd "$KERNEL_SRC" && tools/docs/documentation-file-ref-check 2>&1 |
	awk -F': ' 'NR == FNR { ours[$0] = 1; next } ours[$1]' \
		<(git diff --name-only "$BASE_TAG" HEAD | grep -vx MAINTAINERS) - |
	sort -u || true)
bad_docs=$(grep '^Documentation/' <<<"$refs" || true)
bad_code=$(grep -v '^Documentation/' <<<"$refs" || true)
[[ -z $bad_code ]] || log "docs: warning: references to missing documents in code:"$'\n'"$bad_code"
[[ -z $bad_docs ]] || die "docs: references to missing documents:"$'\n'"$bad_docs"

log "docs: htmldocs clean, 0 warnings ($((SECONDS - start)) s; HTML in $out/Documentation/output)"
