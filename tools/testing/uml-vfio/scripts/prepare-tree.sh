#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Make TREE a git tree whose history is: the pristine base, the removal of
# upstream's UML VFIO driver (both from the cached base repository), then
# the project's changes, in the order of their numbers in patches/: a .msg
# commits the project's own kernel files under the paths its "# files:"
# line names, a .patch changes upstream files with git am (a patch that
# does not apply fails the build). Re-done only when the project's files
# change.
#
# Usage: prepare-tree.sh BASE_REPO TREE PROJECT_DIR
set -euo pipefail

TAG=tree
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

base=$1
tree=$2
proj=$3
patches=$proj/tools/testing/uml-vfio/patches

git_id() {
	git -C "$tree" -c user.name="uml-vfio developers" \
	    -c user.email="uml-vfio@localhost" -c commit.gpgsign=false "$@"
}

# The kernel files the project owns, as paths relative to PROJECT_DIR.
owned_files() {
	local d

	for d in arch Documentation; do
		[ ! -d "$proj/$d" ] || (cd "$proj" && find "$d" -type f)
	done | LC_ALL=C sort
}

stamp() {
	(cd "$proj" && owned_files | xargs -r sha256sum &&
	 sha256sum "$patches"/*) | sha256sum | cut -d' ' -f1
}

clone_tree() {
	local files

	need_space "$(dirname "$tree")" 2200 "the source tree ($tree, ~1.8 GiB)"
	step "cloning $base into $tree"
	git clone -q --shared --no-checkout "$base" "$tree"
	files=$(git -C "$tree" ls-tree -r --name-only refs/tags/stripped | wc -l)
	step "checking out its $files files"
	progress_watch "checkout" "$files" files count_files "$tree"
	git -C "$tree" checkout -q -B uml-vfio refs/tags/stripped
	progress_stop
}

# Commits the owned files under the paths a .msg names ("# files: ...").
commit_owned() {
	local msg=$1 f paths

	paths=$(sed -n 's/^# files: //p' "$msg")
	[ -n "$paths" ] || die "$(basename "$msg") has no '# files:' line"
	for f in $(owned_files); do
		for p in $paths; do
			case $f in
			"$p"/*|"$p")
				mkdir -p "$tree/$(dirname "$f")"
				cp "$proj/$f" "$tree/$f"
				git -C "$tree" add -f "$f"
				;;
			esac
		done
	done
	git_id commit -q --cleanup=strip -F "$msg"
}

apply_patch() {
	if ! git_id am -q "$1"; then
		git -C "$tree" am --abort || true
		die "$(basename "$1") does not apply to the stripped base"
	fi
}

# Our files and patches, in the order of their numbers (the glob sorts).
apply_project() {
	local f

	step "applying the project's commits to $tree"
	# A run killed inside git am leaves its state behind; drop it.
	if [ -d "$(git -C "$tree" rev-parse --absolute-git-dir)/rebase-apply" ]; then
		git -C "$tree" am --abort 2>/dev/null || true
	fi
	git -C "$tree" reset -q --hard refs/tags/stripped
	for f in "$patches"/*; do
		case $f in
		*.msg) commit_owned "$f" ;;
		*.patch) apply_patch "$f" ;;
		esac
	done
	for f in $(owned_files); do
		cmp -s "$proj/$f" "$tree/$f" ||
			die "$f is not in any commit ('# files:' of a .msg)"
	done
}

main() {
	local s

	[ -d "$tree/.git" ] || clone_tree
	s=$(stamp)
	if [ "$(cat "$tree/.git/uml-vfio-stamp" 2>/dev/null)" = "$s" ]; then
		return
	fi
	apply_project
	echo "$s" > "$tree/.git/uml-vfio-stamp"
	log "history of $tree:"
	git -C "$tree" log --oneline --reverse HEAD | sed 's/^/tree:   /' >&2
}

main "$@"
