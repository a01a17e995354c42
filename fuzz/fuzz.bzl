"""A libFuzzer target and its regression-test twin that replays a corpus under `bazel test`."""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

def switchyard_fuzz_target(name, srcs, deps, corpus, corpus_dir, dict):
    """Defines `name` (a fuzzer under --config=fuzz, a corpus replayer otherwise) and
    `name_regression_test`, which runs every file of `corpus` (the filegroup of the files in
    `corpus_dir`) through the target once. `dict` is the target's libFuzzer dictionary: campaigns
    pass it with -dict, and .clusterfuzzlite/build.sh ships it as NAME.dict (it reads these
    arguments from fuzz/BUILD); the regression test depends on it, so a missing one fails."""
    fuzz_srcs = srcs + select({
        "//fuzz:fuzzing": [],
        "//conditions:default": ["//fuzz:replay_main.cc"],
    })
    fuzz_linkopts = select({
        "//fuzz:fuzzing": ["-fsanitize=fuzzer"],
        "//conditions:default": [],
    })
    cc_binary(
        name = name,
        srcs = fuzz_srcs,
        linkopts = fuzz_linkopts,
        deps = deps,
    )
    cc_test(
        name = name + "_regression_test",
        srcs = fuzz_srcs,
        linkopts = fuzz_linkopts,
        deps = deps,
        data = [corpus, dict],
        # -runs=0: libFuzzer (under --config=fuzz) only executes the corpus once, as the
        # replay main does.
        args = ["-runs=0", corpus_dir],
    )
