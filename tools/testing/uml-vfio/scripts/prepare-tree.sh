#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Make TREE a git tree whose history is: the pristine base, the removal of
# upstream's UML VFIO driver (both from the cached base repository), then
# the project's changes: its own kernel files in one commit and its patches
# to upstream files, each applied with git am (a patch that does not apply
# fails the build). Re-done only when the project's files change.
#
# Usage: prepare-tree.sh BASE_REPO TREE PROJECT_DIR
set -euo pipefail

base=$1
tree=$2
proj=$3
patches=$proj/tools/testing/uml-vfio/patches

log() { echo "tree: $*" >&2; }

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
	log "cloning $base into $tree"
	git clone -q --shared --no-checkout "$base" "$tree"
	git -C "$tree" checkout -q -B uml-vfio refs/tags/stripped
}

apply_project() {
	local f msg

	git -C "$tree" reset -q --hard refs/tags/stripped
	owned_files | while read -r f; do
		mkdir -p "$tree/$(dirname "$f")"
		cp "$proj/$f" "$tree/$f"
		git -C "$tree" add -f "$f"
	done
	msg=$(ls "$patches"/*.msg | head -n 1)
	git_id commit -q -F "$msg"
	for f in "$patches"/*.patch; do
		if ! git_id am -q "$f"; then
			git -C "$tree" am --abort || true
			echo "tree: $(basename "$f") does not apply to the stripped base" >&2
			exit 1
		fi
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
