#!/usr/bin/env bash
# check_format: every C file of the product is laid out as .clang-format says
# (clang-format --dry-run --Werror). Prints the files that differ and how to
# fix them. Exits 77 (meson: skipped) when clang-format is not installed.
# Usage: check_format.sh SOURCE_ROOT
set -euo pipefail
root=$1
command -v clang-format >/dev/null || { echo "clang-format not installed: skipped"; exit 77; }
cd "$root"
mapfile -t files < <(find component client cli tools common -name '*.[ch]' \
	-not -path 'client/android-sample/*' | sort)
bad=()
for f in "${files[@]}"; do
	clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
	echo "not formatted as .clang-format says (fix: clang-format -i FILE):"
	printf '  %s\n' "${bad[@]}"
	exit 1
fi
echo "format: ${#files[@]} files ok"
