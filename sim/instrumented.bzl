"""instrumented_module: C or C++ code under test, compiled with ThreadSanitizer instrumentation
into a shared object that sim/module.h loads (every access a point, sim/instrumentation.h).

The compiler is called directly, not through Bazel's C++ rules, so that the build's own sanitizer
configurations (--config=asan, fuzz) never reach code under test: clang cannot combine
-fsanitize=thread with -fsanitize=address in one file. The module is linked without any
sanitizer runtime; the executable that loads it provides the __tsan_* and sy_* functions.
"""

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
            "objects=''",
            "for src in %s; do obj=$(@D)/_%s_$$(basename $$src).o; %s %s -c $$src -o $$obj; objects=\"$$objects $$obj\"; done" % (
                " ".join(["$(location %s)" % s for s in srcs]),
                name,
                cc,
                flags,
            ),
            "%s -shared -Wl,-z,relro,-z,now -Wl,-Bsymbolic -o $@ $$objects" % cc,
        ]),
        **kwargs
    )
