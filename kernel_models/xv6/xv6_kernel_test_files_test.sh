#!/usr/bin/env bash
# Proves that xv6_kernel_test.bzl asks srcs for the files the build reads: its _COMPILED and
# _HEADERS name the same files as tree.cc's kCompiled and kHeaders, and the runner's list of
# compiled files (xv6_kernel_test.sh) is tree.cc's too.
set -u
dir=kernel_models/xv6
files() {  # files FILE START: the quoted file names from the line matching START to its `;`/`]`
  awk -v start="$2" '$0 ~ start { on = 1 } on { print } on && /[];]$/ { exit }' "$1" | grep -oE '"[a-z_]+\.[ch]"' | tr -d '"' | tr '\n' ' '
}
failed=0
same() {  # same WHAT A B
  if [ "$2" != "$3" ] || [ -z "$2" ]; then
    echo "FAIL: $1: '$2' != '$3'"
    failed=1
  fi
}
same "compiled files" "$(files $dir/tree.cc 'kCompiled\[\] =')" \
  "$(files $dir/xv6_kernel_test.bzl '^_COMPILED =')"
same "headers" "$(files $dir/tree.cc 'kHeaders\[\] =')" "$(files $dir/xv6_kernel_test.bzl '^_HEADERS =')"
runner=$(grep -E '^compiled="' $dir/xv6_kernel_test.sh | sed -e 's/^compiled="//' -e 's/"$//')
same "the runner's compiled files" "$(files $dir/tree.cc 'kCompiled\[\] =')" "$runner "
[ "$failed" -eq 0 ] && echo "PASS: $(files $dir/tree.cc 'kCompiled\[\] =')"
exit "$failed"
