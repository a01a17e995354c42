"""instrumented_module: C or C++ code under test, compiled with ThreadSanitizer instrumentation
into a shared object that sim/module.h loads (every access a point, sim/instrumentation.h).

The compiler is called directly, not through Bazel's C++ rules, so that the build's own sanitizer
configurations (--config=asan, fuzz) never reach code under test: clang cannot combine
-fsanitize=thread with -fsanitize=address in one file. The module is linked without any
sanitizer runtime; the executable that loads it provides the __tsan_* and sy_* functions.
"""

# libFuzzer's coverage for code under test (--config=fuzz_code_coverage): what
# -fsanitize=fuzzer-no-link gives the rest of the fuzz configuration (.bazelrc), without trace-cmp,
# which the configuration also leaves out of sim/ and kernel_models/ (the models' comparisons are
# of states and pointers that the schedule decides; it cost 46% of an execution for no guidance),
# and without stack-depth (the deepest stack of a fiber is no guidance either). The same string
# is kCoverage in kernel_models/xv6/tree.cc: keep them alike.
FUZZ_COVERAGE = "-fsanitize-coverage=inline-8bit-counters,indirect-calls,pc-table"

def _compile_each(name, srcs, compiler, flags, compile = None):
    """A genrule command that compiles each of `srcs` into an object and collects the objects in
    $$objects; the first source that fails to compile fails the genrule. `compile`: the shell
    command for one source ($$src into $$obj); default: `compiler flags -c $$src -o $$obj`."""
    if compile == None:
        compile = "%s %s -c $$src -o $$obj" % (compiler, flags)
    return " && ".join([
        "objects=''",
        "for src in %s; do obj=$(@D)/_%s_$$(basename $$src).o; %s || exit 1; objects=\"$$objects $$obj\"; done" % (
            " ".join(["$(location %s)" % s for s in srcs]),
            name,
            compile,
        ),
    ])

def instrumented_module(name, srcs, hdrs = [], copts = [], compiler = "clang", **kwargs):
    """Builds lib<name>.so from `srcs` (C or C++) with -fsanitize=thread.

    Args:
      name: the target; the output is lib<name>.so.
      srcs: .c/.cc files of the code under test.
      hdrs: headers they include (the workspace root is on the include path).
      copts: extra compiler flags.
      compiler: "clang" (default) or "gcc": both emit the same __tsan_* calls.
      **kwargs: passed to the genrule (visibility, testonly, ...).
    """
    cc = {"clang": "clang", "gcc": "gcc"}[compiler]
    flags = " ".join([
        "-fsanitize=thread",
        "-fPIC",
        "-O2",
        "-g1",
        "-fno-omit-frame-pointer",
        "-Wall",
        "-Werror",
        "-I.",
    ] + copts)
    out = "lib%s.so" % name
    native.genrule(
        name = name,
        srcs = srcs + hdrs + ["//sim:platform.h"],
        outs = [out],
        cmd = " && ".join([
            _compile_each(name, srcs, cc, flags),
            "%s -shared -Wl,-z,relro,-z,now -Wl,-Bsymbolic -o $@ $$objects" % cc,
        ]),
        **kwargs
    )

def instrumented_library(
        name,
        srcs,
        hdrs,
        deps,
        ignorelist,
        headers = [],
        atomics = False,
        plain_srcs = [],
        **kwargs):
    """A cc_library whose `srcs` (C++) are compiled with -fsanitize=thread by clang, always.

    For a model's own code, linked into switchyard (not loaded as a module): every load and store
    in the functions of `srcs` calls the runtime's __tsan_* hooks. Functions defined in headers
    (the standard library, Abseil, sim/ and the model's own headers) are left uninstrumented by
    `ignorelist` (clang's -fsanitize-ignorelist), and function entry/exit (and atomics, unless
    `atomics`) are not instrumented, so that every copy of an inline function in the executable
    is the same code:
    the linker keeps one copy of each, and the simulator must never run an instrumented one.
    Nothing is inlined (-fno-inline): clang instruments a header's function once it is inlined
    into an instrumented one, whatever the ignorelist says, and the simulator's inline accessors
    read its own state, which is no memory of the model (an "unattributed-access"). The points
    are therefore exactly the loads and stores written in `srcs`: `p->host.map[page] = -1` is
    one write (the vector's operator[] is a call, uninstrumented).
    The compiler and its flags are fixed (clang, -O2), whatever the build's configuration, so
    that the model makes the same points, and a seed the same trace, in every build: fastbuild,
    opt, o0, asan (whose -fsanitize=address clang cannot combine with thread) and fuzz, and a
    build whose C++ compiler is g++. One flag is added under --config=fuzz_code_coverage
    (//fuzz:code_coverage): libFuzzer's coverage (FUZZ_COVERAGE), in `srcs` and `plain_srcs`
    alike, so that a fuzzer is guided by the model's own branches and not only by the
    simulator's. It is added after the ThreadSanitizer instrumentation (see `compile` below), so
    the counters are no points and the trace of a seed stays that of every other build.

    Args:
      name: the cc_library.
      srcs: the .cc files to instrument.
      hdrs: the library's public headers.
      deps: cc_library deps (for the link and for users' includes).
      ignorelist: the -fsanitize-ignorelist file.
      headers: every other header the sources include (labels of files), for the sandbox.
      plain_srcs: .cc files of the same library that make no points (checkers, the bug table,
        the workload generator, the entry point): compiled into the same archive by the same
        compiler, with inlining and without instrumentation, so that the checks that run at
        every step cost what ordinary code costs.
      atomics: instrument the atomics written in `srcs` too (__tsan_atomic*: a point each, and a
        failed test-and-set a spin-wait iteration), for a model whose locks are atomics, as
        xv6's spin locks are. Off by default: the ignorelist keeps headers' atomics
        uninstrumented either way.
      **kwargs: passed to the cc_library (visibility, ...).
    """
    archive = "lib%s_instrumented.a" % name
    common = [
        "-std=c++20",
        "-O2",
        "-g1",
        "-fPIC",
        "-fno-omit-frame-pointer",
        "-Wall",
        "-Wextra",
        "-Werror",
    ]
    flags = " ".join(common + [
        "-fsanitize=thread",
        "-fsanitize-ignorelist=$(location %s)" % ignorelist,
        "-mllvm -tsan-instrument-func-entry-exit=0",
    ] + ([] if atomics else ["-mllvm -tsan-instrument-atomics=0"]) + [
        "-fno-inline",
        "-I.",
    ])
    plain_flags = " ".join(common + ["$$coverage", "-I."])

    # With coverage, in two steps: clang 14 runs the coverage pass before the ThreadSanitizer
    # pass, which would then instrument every counter increment (a __tsan_write1 per basic block,
    # of memory that is the fuzzer's, not the program's). So the instrumented, optimised IR is
    # emitted first and the counters are added to it when it is compiled into the object. The
    # second -O2 re-optimises that IR: the hooks are opaque calls, so their order and arguments
    # stay, but their call sites (the pcs that views name) and frame layouts may move. That a
    # seed's trace stays that of every other build is therefore checked, not guaranteed:
    # //scenario:scenario_test under --config=fuzz_code_coverage, in CI. The counters also cover
    # the inline functions of headers (the standard library's, Abseil's, sim/'s) compiled here.
    compile = " ".join([
        "if [ -z \"$$coverage\" ]; then clang++ %s -c $$src -o $$obj;" % flags,
        "else clang++ %s -emit-llvm -c $$src -o $$obj.bc &&" % flags,
        "clang++ -O2 -fPIC $$coverage -c $$obj.bc -o $$obj; fi",
    ])
    commands = [
        _compile_each(name, srcs, "clang++", flags, compile),
        "instrumented=\"$$objects\"",
        _compile_each(name + "_plain", plain_srcs, "clang++", plain_flags),
    ]
    native.genrule(
        name = name + "_objects",
        srcs = srcs + plain_srcs + hdrs + headers + [ignorelist],
        outs = [archive],
        cmd = select({
            "//fuzz:code_coverage": "coverage='%s'" % FUZZ_COVERAGE,
            "//conditions:default": "coverage=''",
        }) + " && " + " && ".join(commands + [
            "rm -f $@",
            "ar rcs $@ $$instrumented $$objects",
        ]),
    )
    native.cc_library(
        name = name,
        srcs = [archive],
        hdrs = hdrs,
        deps = deps,
        **kwargs
    )
