#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# patches.sh          regenerate patches/ from the series branch, then check it
# patches.sh --check  fail if patches/ is stale; check that it applies with
#                     `git am` onto the pristine base and reproduces the
#                     series tree, and that checkpatch.pl --strict is clean
set -euo pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-write}
kgit() { git -C "$KERNEL_SRC" "$@"; }
base=refs/tags/$BASE_TAG

gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
series_git -C "$KERNEL_SRC" format-patch -q --cover-letter --no-signature \
	--zero-commit --base="$base" --subject-prefix="RFC PATCH" \
	-o "$gen/out" "$base..$SERIES_BRANCH" >/dev/null
python3 - "$gen/out"/0000-cover-letter.patch "$TOP/series/cover-letter" <<'PY'
import sys
path, cover = sys.argv[1], open(sys.argv[2]).read().strip("\n").split("\n", 1)
text = open(path).read()
text = text.replace("*** SUBJECT HERE ***", cover[0].strip())
text = text.replace("*** BLURB HERE ***", cover[1].strip("\n") if len(cover) > 1 else "")
open(path, "w").write(text)
PY

if [[ $mode == write ]]; then
	rm -rf "$TOP/patches"
	mv "$gen/out" "$TOP/patches"
	log "patches: wrote $(ls "$TOP/patches" | wc -l) files to patches/"
else
	diff -ru "$TOP/patches" "$gen/out" >"$gen/stale.diff" ||
		{ head -n 40 "$gen/stale.diff"; die "patches/ is stale: run 'make patches' and commit it"; }
	log "patches: patches/ is up to date with the series"
fi

# git am onto the pristine base must reproduce the series tree exactly.
kgit worktree prune
wt=$gen/am
kgit worktree add -q --detach "$wt" "$base"
mapfile -t series < <(ls "$TOP"/patches/0*.patch | grep -v /0000-cover-letter.patch)
series_git -C "$wt" am -q "${series[@]}" ||
	die "patches/ does not apply with git am onto $BASE_TAG"
[[ $(git -C "$wt" rev-parse 'HEAD^{tree}') == $(kgit rev-parse "$SERIES_BRANCH^{tree}") ]] ||
	die "git am of patches/ does not reproduce the series tree"
kgit worktree remove --force "$wt"
log "patches: ${#series[@]} patches apply with git am onto $BASE_TAG"

# checkpatch --strict: no errors, warnings or checks. Patches that only add
# vendored third-party crates are exempt, as upstream's rust/syn/ and
# rust/proc-macro2/ are: they are imported unmodified and reviewed as such.
vendored_re="($VENDORED_RE|^MAINTAINERS\$)"
bad=0
for p in "${series[@]}"; do
	if ! grep -E '^\+\+\+ b/' "$p" | sed 's|^+++ b/||' | grep -Evq "$vendored_re"; then
		log "patches: ${p##*/}: vendored code only, checkpatch skipped"
		continue
	fi
	outp=$(cd "$KERNEL_SRC" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --terse --no-summary --show-types "$p" 2>&1 || true)
	if [[ -n $outp ]]; then
		printf '%s\n' "$outp"
		bad=1
	fi
done
((bad == 0)) || die "checkpatch.pl --strict is not clean"
log "patches: checkpatch.pl --strict: clean"
