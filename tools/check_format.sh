#!/usr/bin/env bash
# Fails when a project C++ source is not formatted with .clang-format. Fix: tools/check_format.sh --fix
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc' '*.inc' | grep -v '^third_party/')
if [ "${1:-}" = "--fix" ]; then
  clang-format -i "${files[@]}"
  exit 0
fi
if ! clang-format --dry-run -Werror "${files[@]}" 2>/tmp/switchyard-format.txt; then
  grep -oE '^[^ :]+\.(h|cc|inc):' /tmp/switchyard-format.txt | sort -u | sed 's/:$//; s/^/not formatted: /'
  echo "run 'tools/check_format.sh --fix' to format them" >&2
  exit 1
fi
echo "format: ${#files[@]} files formatted"
