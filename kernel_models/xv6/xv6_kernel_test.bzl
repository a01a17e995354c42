"""xv6_kernel_test: a test that explores an xv6-riscv tree with switchyard, for BUILD files of
switchyard and of other workspaces (load("@switchyard//kernel_models/xv6:xv6_kernel_test.bzl",
"xv6_kernel_test")).

xv6_kernel_test(name, srcs, cpus = 2, runs = 200, time = "", seed = 0, strategy = "random",
                jobs = 1, keep_going = False, swtch = False, explore_args = [], **kwargs)

Args:
  srcs: the tree's kernel/*.c and kernel/*.h, as files, a glob or filegroups, e.g.
    glob(["xv6-riscv/kernel/*.c", "xv6-riscv/kernel/*.h"]). They must hold kernel/proc.c,
    spinlock.c, sleeplock.c, kalloc.c, vm.c, trap.c, syscall.c, sysproc.c, bio.c (the files
    switchyard compiles) and types.h, param.h, spinlock.h, sleeplock.h, proc.h, defs.h,
    syscall.h, fs.h, buf.h, all in
    one kernel/ directory; any other header that directory has must be listed too, or it is not
    seen. Other files may be in srcs and are not read. Generated files work (a genrule's copy
    of a tree).
  cpus: virtual CPUs (at most the tree's NCPU).
  runs: seeds `seed`, `seed`+1, ...: how many. Ignored when `time` is given.
  time: a wall-clock budget instead ("30s", "2m"): how many seeds run then depends on the
    machine, so the default is a fixed number of runs.
  seed, strategy ("random" or "pct"), jobs, keep_going: explore's flags of the same names.
  swtch: also run the tree's own kernel/swtch.S in the RISC-V emulator at every swtch()
    (`--swtch=1`: a swtch.S that loses a register, or a struct context whose ra and sp are not
    where swtch.S loads them, fails the test). srcs must then hold kernel/swtch.S too, and the
    RISC-V cross compiler (riscv64-linux-gnu-gcc) must be on the PATH of the test.
  explore_args: any other `switchyard explore` flags (["--pct_depth=3"]).
  **kwargs: the test's attributes (size, timeout, tags, ...). size defaults to "medium".

What the test does: at run time, switchyard (built by Bazel from this workspace) compiles the
tree's nine files with clang and -fsanitize=thread against the xv6 platform, into $TEST_TMPDIR
(the tree is only read), and runs `switchyard explore --model=xv6 --kernel=TREE` on them: the
tree's own scheduler, locks, traps and system calls on virtual CPUs, every load, store and
atomic a point where another CPU may run (README.md, "Check your own xv6"). The runner is
kernel_models/xv6/xv6_kernel_test.sh. It needs clang (14) and nm on the PATH of the test, as
`--kernel=DIR` does outside Bazel.

Outputs: the test passes when no run violates an invariant. Otherwise it fails with explore's
summary (each violated invariant, its count, first seed and one-line message), a closing line
`LABEL: FAILED: a safety violation in the xv6 tree DIR`, and the reproducer's name: the file is
written to $TEST_UNDECLARED_OUTPUTS_DIR, which Bazel keeps in bazel-testlogs/PKG/NAME/
test.outputs/, with the `replay` command that shows it. A tree that does not compile fails the
test with the compiler's messages and exit 2.

Errors at analysis (the build stops with one line naming what is wrong): srcs without
kernel/proc.c, without another file switchyard needs (kernel/swtch.S with swtch = True), or with
kernel/ files of two trees.
"""

# The files tree.cc's BuildTree reads by name (kCompiled and kHeaders there): keep in step.
_COMPILED = ["proc.c", "spinlock.c", "sleeplock.c", "kalloc.c", "vm.c", "trap.c", "syscall.c", "sysproc.c", "bio.c"]

_HEADERS = ["types.h", "param.h", "spinlock.h", "sleeplock.h", "proc.h", "defs.h", "syscall.h", "fs.h", "buf.h"]

def _quote(s):
    return "'" + s.replace("'", "'\\''") + "'"

def _kernel_dir(ctx):
    """The directory (a short path) holding the tree's kernel/proc.c, checked against srcs."""
    procs = [f for f in ctx.files.srcs if f.short_path == "kernel/proc.c" or
                                          f.short_path.endswith("/kernel/proc.c")]
    if not procs:
        fail("xv6_kernel_test %s: srcs have no kernel/proc.c (give the tree's kernel/*.c and " % ctx.label +
             "kernel/*.h, e.g. glob([\"xv6-riscv/kernel/*.c\", \"xv6-riscv/kernel/*.h\"]))")
    kernel = procs[0].short_path[:-len("/proc.c")]
    if len(procs) > 1:
        fail("xv6_kernel_test %s: srcs hold the kernel/proc.c of several trees: %s" %
             (ctx.label, ", ".join([f.short_path for f in procs])))
    names = {}
    for f in ctx.files.srcs:
        directory = f.short_path[:-len("/" + f.basename)]
        if directory == kernel:
            names[f.basename] = True
        elif directory.endswith("/kernel") or directory == "kernel":
            fail("xv6_kernel_test %s: srcs hold kernel/ files of two trees: %s and %s" %
                 (ctx.label, kernel, f.short_path))
    missing = [n for n in _COMPILED + _HEADERS + (["swtch.S"] if ctx.attr.swtch else []) if n not in names]
    if missing:
        fail("xv6_kernel_test %s: srcs have no %s in %s (switchyard compiles kernel/%s and " %
             (ctx.label, ", ".join(missing), kernel, ", ".join(_COMPILED)) +
             "needs the headers %s%s)" % (", ".join(_HEADERS), "; with swtch = True it also assembles kernel/swtch.S" if ctx.attr.swtch else ""))
    return kernel[:-len("/kernel")] if kernel != "kernel" else "."

def _xv6_kernel_test_impl(ctx):
    tree = _kernel_dir(ctx)
    flags = ["--cpus=%d" % ctx.attr.cpus, "--seed=%d" % ctx.attr.seed, "--jobs=%d" % ctx.attr.jobs,
             "--strategy=" + ctx.attr.strategy]
    flags.append("--time=" + ctx.attr.time if ctx.attr.time else "--runs=%d" % ctx.attr.runs)
    if ctx.attr.keep_going:
        flags.append("--keep_going")
    if ctx.attr.swtch:
        flags.append("--swtch=1")
    flags += ctx.attr.explore_args
    switchyard = ctx.executable._switchyard
    script = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.write(
        output = script,
        is_executable = True,
        content = "\n".join([
            "#!/usr/bin/env bash",
            "# Generated by xv6_kernel_test.bzl for %s. Do not edit." % ctx.label,
            "exec %s %s %s %s %s \"$@\"" % (
                _quote(ctx.file._runner.short_path),
                _quote(switchyard.short_path),
                _quote(tree),
                _quote(str(ctx.label)),
                " ".join([_quote(f) for f in flags]),
            ),
            "",
        ]),
    )
    runfiles = ctx.runfiles(files = ctx.files.srcs + [ctx.file._runner, switchyard])
    runfiles = runfiles.merge(ctx.attr._switchyard[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

_xv6_kernel_test = rule(
    implementation = _xv6_kernel_test_impl,
    test = True,
    attrs = {
        # Any files: a filegroup of a whole kernel/ (kernel.ld) is fine; the .c and .h files of
        # kernel/ are read, and kernel/swtch.S with swtch = True.
        "srcs": attr.label_list(allow_files = True, mandatory = True),
        "swtch": attr.bool(default = False),
        "cpus": attr.int(default = 2),
        "runs": attr.int(default = 200),
        "time": attr.string(default = ""),
        "seed": attr.int(default = 0),
        "strategy": attr.string(default = "random", values = ["random", "pct"]),
        "jobs": attr.int(default = 1),
        "keep_going": attr.bool(default = False),
        "explore_args": attr.string_list(),
        "_runner": attr.label(
            default = Label("//kernel_models/xv6:xv6_kernel_test.sh"),
            allow_single_file = True,
        ),
        "_switchyard": attr.label(
            default = Label("//cli:switchyard"),
            executable = True,
            cfg = "target",
        ),
    },
)

def xv6_kernel_test(name, srcs, size = "medium", **kwargs):
    """See the file's docstring."""
    _xv6_kernel_test(name = name, srcs = srcs, size = size, **kwargs)
