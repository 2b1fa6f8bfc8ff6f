#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Compose the series as commits on top of $BASE_TAG in $KERNEL_SRC, then check
# the result out. Commits are built with a private index (git plumbing), so
# the checkout only rewrites files whose content changed and an incremental
# kernel build stays incremental.
#
# series/NN-slug.msg   the commit message (subject, body, Signed-off-by)
# series/NN-slug.files what the commit adds: overlay paths (files, or
#                      directories meaning every tracked file under them),
#                      and series/fragments/*.diff edits to existing kernel
#                      files (or to files an earlier commit added: a later
#                      commit that declares a new submodule patches its
#                      parent this way, so that every commit builds)
# MAINTAINERS.fragment holds the series' MAINTAINERS entries. Each commit gets
# them with the F: lines whose paths exist at that commit, so an entry grows
# with the files and every patch that adds a file also says who maintains it.
# Every tracked file under an overlay root belongs to exactly one commit.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

overlay_roots=(rust drivers samples Documentation include)
cd "$TOP"

# Which commit claims which overlay file; fail on orphans and double claims.
declare -A owner=()
mapfile -t msgs < <(ls series/[0-9]*.msg | sort)
for msg in "${msgs[@]}"; do
	files=${msg%.msg}.files
	[[ -f $files ]] || die "$msg has no ${files##*/}"
	while read -r p; do
		[[ -z $p || $p == \#* || $p == *.diff ]] && continue
		mapfile -t paths < <(git ls-files --cached --others --exclude-standard -- "$p")
		((${#paths[@]})) || die "${files##*/}: no files at $p"
		for f in "${paths[@]}"; do
			[[ -n ${owner[$f]:-} ]] && die "$f is claimed by ${owner[$f]} and ${files##*/}"
			owner[$f]=${files##*/}
		done
	done <"$files"
done
while read -r f; do
	[[ -n ${owner[$f]:-} ]] || die "$f is in no series commit (add it to a series/*.files)"
done < <(git ls-files --cached --others --exclude-standard -- "${overlay_roots[@]}")

kgit() { git -C "$KERNEL_SRC" "$@"; }
base=$(kgit rev-parse "refs/tags/$BASE_TAG^{commit}")
index=$(mktemp)
trap 'rm -f "$index"' EXIT
export GIT_INDEX_FILE=$index
kgit read-tree "$base"
# Refresh our MAINTAINERS entry in the private index (see above).
maintainers_entry() {
	local frag blob
	frag=$(mktemp)
	# An F: path is listed from the commit that adds a file it covers, not
	# counting files a more specific F: path covers, nor vendored files unless
	# the path is a vendored crate's: so each commit that adds files updates
	# MAINTAINERS (checkpatch asks for that). A section is left out until it
	# has an F: line (scripts/maintainers-insert.py).
	local -a fpaths
	mapfile -t fpaths < <(sed -n 's/^F:\t//p' "$TOP/MAINTAINERS.fragment")
	while IFS= read -r line; do
		if [[ $line == F:* ]]; then
			local path=${line#F:	} covered=0 f other
			while read -r f; do
				[[ $f =~ $VENDORED_RE && ! $path =~ $VENDORED_RE ]] && continue
				for other in "${fpaths[@]}"; do
					[[ $other != "$path" && $other == "$path"* && $f == "$other"* ]] &&
						continue 2
				done
				covered=1
				break
			done < <(kgit ls-files -- "$path")
			((covered)) || continue
		fi
		printf '%s\n' "$line"
	done <"$TOP/MAINTAINERS.fragment" >"$frag"
	blob=$(kgit cat-file blob "$base:MAINTAINERS" |
		"$TOP/scripts/maintainers-insert.py" "$frag" |
		kgit hash-object -w --stdin) || die "cannot add our entries to MAINTAINERS"
	kgit update-index --cacheinfo "100644,$blob,MAINTAINERS"
	rm -f "$frag"
}

head=$base
for msg in "${msgs[@]}"; do
	files=${msg%.msg}.files
	while read -r p; do
		[[ -z $p || $p == \#* ]] && continue
		if [[ $p == *.diff ]]; then
			if [[ -n ${REBASE:-} ]]; then
				# Rebasing onto a new base: a fragment that no longer applies
				# is merged three-way (its preimages come from the old tree's
				# objects, see REBASE in scripts/lib.sh) and rewritten against
				# the new base.
				before=$(kgit write-tree)
				if ! kgit apply --cached --whitespace=error-all "$TOP/$p" 2>/dev/null; then
					kgit apply --cached --3way --whitespace=error-all "$TOP/$p" ||
						die "${files##*/}: $p conflicts with the new base: resolve it by hand"
					mapfile -t fpaths < <(sed -n 's#^+++ b/##p' "$TOP/$p")
					kgit diff --cached "$before" -- "${fpaths[@]}" >"$TOP/$p"
					log "rebase: rewrote $p"
				fi
				continue
			fi
			kgit apply --cached --whitespace=error-all "$TOP/$p" ||
				die "${files##*/}: $p does not apply to the base"
			continue
		fi
		while read -r f; do
			mode=100644
			[[ -x $f ]] && mode=100755
			blob=$(kgit hash-object -w --path="$f" "$TOP/$f")
			kgit update-index --add --cacheinfo "$mode,$blob,$f"
		done < <(git ls-files --cached --others --exclude-standard -- "$p")
	done <"$files"
	maintainers_entry
	tree=$(kgit write-tree)
	head=$(cd "$KERNEL_SRC" && series_git commit-tree "$tree" -p "$head" -F "$TOP/$msg")
done
unset GIT_INDEX_FILE

if [[ $(kgit symbolic-ref -q --short HEAD || true) == "$SERIES_BRANCH" ]]; then
	# Moves the branch and updates only the files that differ.
	kgit read-tree -m -u HEAD "$head"
	kgit update-ref "refs/heads/$SERIES_BRANCH" "$head"
else
	kgit checkout -q -B "$SERIES_BRANCH" "$head"
fi
log "tree: $KERNEL_SRC at $SERIES_BRANCH = $(kgit log --oneline -1 "$head") ($(kgit rev-list --count "$base..$head") patches)"
