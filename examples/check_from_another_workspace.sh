#!/usr/bin/env bash
# Proves that switchyard's Bazel macros work as another workspace uses them, through
# load("@switchyard//..."), which `bazel test //...` inside this repo cannot show (labels and
# include paths that only resolve in the main workspace broke that use twice): a throwaway
# workspace outside the repo, with the README's WORKSPACE lines, runs
#   - an xv6_kernel_test on switchyard's own xv6-compatible tree, given as a tree outside that
#     workspace (new_local_repository), as a student's tree is;
#   - a switch_routine_test on examples/switch_routine's routine;
# and checks that srcs without kernel/proc.c stop the build with the line that says so.
# It builds switchyard in its own output base: a cold build, minutes (README, "From your own
# Bazel workspace"). Everything is removed at the end; nothing is written into the repo.
#
#   examples/check_from_another_workspace.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
output_base="$work/output_base"
cleanup() {
  if [ -d "$work/ws" ]; then
    (cd "$work/ws" && bazel --output_base="$output_base" shutdown >/dev/null 2>&1) || true
  fi
  chmod -R u+w "$work" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/ws"
cd "$work/ws"

cat >WORKSPACE <<EOF
workspace(name = "another")

local_repository(name = "switchyard", path = "$repo")
local_repository(name = "rules_cc", path = "$repo/third_party/rules_cc")
local_repository(name = "rules_java", path = "/usr/share/bazel/rules/java")
local_repository(name = "remote_coverage_tools", path = "$repo/third_party/remote_coverage_tools")

new_local_repository(
    name = "xv6",
    path = "$repo/kernel_models/xv6/builtin",
    build_file_content = """
filegroup(
    name = "kernel",
    srcs = glob(["kernel/*.c", "kernel/*.h"]),
    visibility = ["//visibility:public"],
)
filegroup(
    name = "kernel_without_proc",
    srcs = glob(["kernel/*.c", "kernel/*.h"], exclude = ["kernel/proc.c"]),
    visibility = ["//visibility:public"],
)
""",
)
EOF
echo 'build --cxxopt=-std=c++20 --host_cxxopt=-std=c++20' >.bazelrc
cp "$repo/examples/switch_routine/my_switch_x86_64_sysv_elf_gas.S" .
cat >BUILD <<'EOF'
load("@switchyard//kernel_models/xv6:xv6_kernel_test.bzl", "xv6_kernel_test")
load("@switchyard//kernel_models/switch:switch.bzl", "switch_routine_test")

xv6_kernel_test(
    name = "xv6_test",
    srcs = ["@xv6//:kernel"],
    runs = 20,
)

xv6_kernel_test(
    name = "no_proc_test",
    srcs = ["@xv6//:kernel_without_proc"],
    tags = ["manual"],
)

switch_routine_test(
    name = "my_switch_test",
    srcs = ["my_switch_x86_64_sysv_elf_gas.S"],
    arch = "x86_64",
    convention = "swap",
    size = "small",
)
EOF

bazel="bazel --output_base=$output_base"
start=$SECONDS
$bazel test --test_output=errors //:xv6_test //:my_switch_test
echo "another workspace: the macros' tests passed ($((SECONDS - start)) s with the build)"

if $bazel build //:no_proc_test >"$work/no_proc.log" 2>&1; then
  echo "FAIL: srcs without kernel/proc.c built"
  exit 1
fi
if ! grep -q "xv6_kernel_test //:no_proc_test: srcs have no kernel/proc.c" "$work/no_proc.log"; then
  echo "FAIL: srcs without kernel/proc.c did not say so:"
  tail -n 5 "$work/no_proc.log"
  exit 1
fi
echo "another workspace: srcs without kernel/proc.c stop the build and say so"
