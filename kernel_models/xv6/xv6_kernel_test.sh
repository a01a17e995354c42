#!/usr/bin/env bash
# The body of xv6_kernel_test (xv6_kernel_test.bzl): explores one xv6-riscv tree with
# `switchyard explore --model=xv6 --kernel=TREE` and turns the verdict into a test's.
#
#   xv6_kernel_test.sh SWITCHYARD TREE LABEL [explore flags...]
#
# SWITCHYARD and TREE are runfiles paths (TREE holds kernel/). The tree is compiled with clang
# into $TEST_TMPDIR (never into the tree, never into ~/.cache), and reproducers go to
# $TEST_UNDECLARED_OUTPUTS_DIR, which Bazel keeps under bazel-testlogs/.../test.outputs/.
#
# Which directory switchyard reads: the tree's real directory when every file switchyard reads
# there (kernel/*.h and the compiled kernel/*.c) is one the test declares, so that findings and
# reproducers name the user's own files and `replay` works after the test; otherwise (an
# undeclared header beside them, files from several directories, remote execution) the
# runfiles directory, which holds exactly the declared files.
#
# Exit status: 0 no violation; 1 a violation (any kind: explore's own status is printed);
# 2 switchyard could not use the tree (its one-line message is printed above).
set -u
switchyard=$1
tree=$2
label=$3
shift 3

# The files BuildTree (tree.cc) compiles; it also reads every kernel/*.h, and kernel/swtch.S
# (declared in srcs when the test asks for --swtch=1).
compiled="proc.c spinlock.c sleeplock.c kalloc.c vm.c trap.c syscall.c sysproc.c bio.c"
declared="$compiled"
for arg in "$@"; do
  [ "$arg" = "--swtch=1" ] && declared="$declared swtch.S"
done

runfiles_tree=$(cd "$tree" && pwd -P) || exit 2
real_tree=$(dirname "$(dirname "$(readlink -f "$runfiles_tree/kernel/proc.c")")")
if [ "$real_tree" != "$runfiles_tree" ]; then
  for f in "$real_tree"/kernel/*.h; do
    declared="$declared $(basename "$f")"
  done
  for name in $declared; do
    if [ ! -e "$real_tree/kernel/$name" ]; then
      continue  # BuildTree reports a missing compiled file itself
    fi
    if [ "$(readlink -f "$runfiles_tree/kernel/$name" 2>/dev/null)" != "$real_tree/kernel/$name" ]
    then
      echo "$label: $real_tree/kernel/$name is not in srcs: exploring the declared files" \
        "in $runfiles_tree instead (findings name the runfiles copies)"
      real_tree=$runfiles_tree
      break
    fi
  done
fi

tmp=${TEST_TMPDIR:-$(mktemp -d)}
export XDG_CACHE_HOME="$tmp/cache"
out=${TEST_UNDECLARED_OUTPUTS_DIR:-$tmp/outputs}
mkdir -p "$out"

"$switchyard" explore --model=xv6 --kernel="$real_tree" --out="$out" "$@"
status=$?
case $status in
  0) exit 0 ;;
  2)
    echo "$label: switchyard could not use the tree $real_tree (exit 2, its message is above)"
    exit 2
    ;;
esac
kinds=([1]="a safety violation" [3]="a liveness violation" [5]="a crash" [6]="a hang")
echo
echo "$label: FAILED: ${kinds[$status]:-exit $status} in the xv6 tree $real_tree"
# Where Bazel keeps the reproducers once the test is over: it zips a test's undeclared outputs
# into bazel-testlogs/PKG/NAME/test.outputs/outputs.zip (the paths explore printed above were the
# test's own and are gone).
target=${TEST_TARGET:-}
target=${target#@*//}
target=${target#//}
package=${target%%:*}
zip="bazel-testlogs/${package:+$package/}${target#*:}/test.outputs/outputs.zip"
for file in "$out"/*.json; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  echo "  reproducer: $name, kept by Bazel in $zip"
  if [ "$real_tree" != "$runfiles_tree" ]; then
    echo "  replay it, from the workspace's root: unzip -o -d switchyard-out $zip $name &&" \
      "bazel run @switchyard//:switchyard -- replay \$PWD/switchyard-out/$name --trace=interleaving"
  else
    echo "  (it names the test's runfiles copy of the tree, which is gone: replay needs the tree" \
      "at that path)"
  fi
done
exit 1
