#!/usr/bin/env python3
"""Reads the project's BUILD files without Bazel and prints what build.sh needs to build the fuzz
targets: for each target its sources (the transitive closure of its cc_library deps, as Bazel
sees them), the link options of those libraries, its corpus and dictionary, and the genrule
commands that make the generated files among them (cross-compiled programs embedded as C++),
with their $(location) references resolved.

The cluster's image has no Bazel, so BUILD and .bzl files are evaluated as the Python that
Starlark almost is: native rules are recorded, .bzl macros (cross_program,
switchyard_fuzz_target) run for real, select() takes the branch of the config_setting that the
given --define values match (the fuzz configuration's). Anything this reader does not know
(another native rule attribute, a make variable, an external repository) is a one-line error, so
that a BUILD change that it cannot follow fails the cluster build loudly instead of building
something else.

Usage: build_graph.py ROOT GENDIR [--define K=V ...]
Prints bash assignments (see emit()), to be eval'd by build.sh.
"""

import pathlib
import re
import shlex
import sys

COMPILED_EXTENSIONS = (".c", ".cc", ".cpp", ".cxx", ".S", ".s")
# Attributes of cc rules this reader understands. Others change how Bazel compiles or links, so
# they are refused rather than ignored.
CC_ATTRIBUTES = {"name", "srcs", "hdrs", "deps", "copts", "linkopts", "visibility", "testonly",
                 "size", "tags", "data", "args", "textual_hdrs", "alwayslink", "timeout",
                 "shard_count", "flaky", "local", "env"}


class Label(str):
    """Starlark's Label("//pkg:name"): the label's text, in the main workspace."""
    workspace_root = ""


class BuildError(Exception):
    pass


class Rule:
    def __init__(self, kind, package, attrs, generator):
        self.kind = kind
        self.package = package
        self.name = attrs["name"]
        self.attrs = attrs
        self.generator = generator  # (macro name, its keyword arguments) or None

    def label(self):
        return "//%s:%s" % (self.package, self.name)


class Select:
    """A select() or a concatenation containing one; resolved once every package is read."""

    def __init__(self, parts):
        self.parts = parts

    def __add__(self, other):
        return Select(self.parts + [other])

    def __radd__(self, other):
        return Select([other] + self.parts)


class Graph:
    def __init__(self, root, gendir, defines):
        self.root = pathlib.Path(root)
        self.gendir = gendir
        self.defines = defines
        self.rules = {}  # label -> Rule
        self.packages = set()
        self.modules = {}  # .bzl label -> its globals
        self.current_package = None
        self.generator = None

    # ----- labels -----
    def parse_label(self, text, package):
        if text.startswith("@"):
            raise BuildError("external repository label %s in //%s is not supported" % (text, package))
        if text.startswith("//"):
            pkg, _, name = text[2:].partition(":")
            return pkg, name or pkg.rsplit("/", 1)[-1]
        return package, text[1:] if text.startswith(":") else text

    # ----- evaluation -----
    def native_rule(self, kind):
        def record(**attrs):
            if "name" not in attrs:
                raise BuildError("%s without a name in //%s" % (kind, self.current_package))
            rule = Rule(kind, self.current_package, attrs, self.generator)
            self.rules[rule.label()] = rule
        return record

    def glob(self, include, exclude=(), exclude_directories=1, allow_empty=True):
        base = self.root / self.current_package
        found = set()
        for pattern in include:
            for path in base.glob(pattern):
                rel = path.relative_to(base)
                if path.is_dir() or self.in_subpackage(base, rel):
                    continue
                found.add(str(rel))
        for pattern in exclude:
            found -= {str(p.relative_to(base)) for p in base.glob(pattern)}
        return sorted(found)

    def in_subpackage(self, base, rel):
        for parent in list(rel.parents)[:-1]:
            if (base / parent / "BUILD").exists() or (base / parent / "BUILD.bazel").exists():
                return True
        return False

    def select(self, choices, no_match_error=""):
        return Select([dict(choices)])

    NATIVE_RULES = ("cc_library", "cc_binary", "cc_test", "genrule", "filegroup", "sh_test",
                    "sh_binary", "config_setting", "alias", "test_suite")

    def environment(self, package):
        """The globals a BUILD or .bzl file of `package` runs with."""
        native = type("native", (), {})()
        for kind in self.NATIVE_RULES:
            setattr(native, kind, self.native_rule(kind))
        native.glob = self.glob
        native.package_name = lambda: self.current_package
        native.repository_name = lambda: "@"  # the main repository: the cluster builds this one
        native.exports_files = lambda *a, **k: None
        native.package = lambda **k: None

        def fail(message, *args):
            raise BuildError("fail() in //%s: %s" % (self.current_package, message))

        env = {"native": native, "select": self.select, "glob": self.glob, "fail": fail,
               "package": native.package, "exports_files": native.exports_files,
               "package_name": native.package_name, "Label": Label}
        env.update({kind: getattr(native, kind) for kind in self.NATIVE_RULES})
        env["load"] = self.make_load(package, env)
        return env

    def load_module(self, label, package):
        """The globals of a .bzl file, executed once."""
        if label == "@rules_cc//cc:defs.bzl":  # the project's rules_cc forwards to native rules
            return {k: self.native_rule(k) for k in ("cc_library", "cc_binary", "cc_test")}
        pkg, name = self.parse_label(label, package)
        key = "//%s:%s" % (pkg, name)
        if key not in self.modules:
            path = self.root / pkg / name
            env = self.environment(pkg)
            exec(compile(path.read_text(), str(path), "exec"), env)
            self.modules[key] = env
        return self.modules[key]

    def make_load(self, package, into):
        def load(label, *names, **aliases):
            module = self.load_module(label, package)
            for alias, name in [(n, n) for n in names] + list(aliases.items()):
                if name not in module:
                    raise BuildError("%s does not define %s" % (label, name))
                into[alias] = self.as_macro(name, module[name])
        return load

    def as_macro(self, name, value):
        """Rules a macro creates remember it, as Bazel's generator_function does."""
        if not callable(value) or getattr(value, "__module__", None) == __name__:
            return value

        def macro(*args, **kwargs):
            outer = self.generator
            self.generator = self.generator or (name, kwargs)
            try:
                return value(*args, **kwargs)
            finally:
                self.generator = outer
        return macro

    def load_package(self, package):
        if package in self.packages:
            return
        path = self.root / package / "BUILD"
        if not path.exists():
            raise BuildError("no BUILD file for package //%s" % package)
        self.packages.add(package)
        outer = self.current_package
        self.current_package = package
        env = self.environment(package)
        try:
            exec(compile(path.read_text(), str(path), "exec"), env)
        except NameError as e:
            raise BuildError("%s: %s (build_graph.py does not know it)" % (path, e))
        finally:
            self.current_package = outer

    def rule(self, label, package):
        pkg, name = self.parse_label(label, package)
        self.load_package(pkg)
        return self.rules.get("//%s:%s" % (pkg, name))

    # ----- select -----
    def config_matches(self, label):
        if label == "//conditions:default":
            return False
        rule = self.rule(label, "")
        if rule is None or rule.kind != "config_setting":
            raise BuildError("select() key %s is not a config_setting" % label)
        unknown = set(rule.attrs) - {"name", "define_values", "visibility"}
        if unknown:
            raise BuildError("config_setting %s uses %s" % (label, ", ".join(sorted(unknown))))
        return all(self.defines.get(k) == v for k, v in rule.attrs["define_values"].items())

    def resolve(self, value):
        if not isinstance(value, Select):
            return value
        parts = []
        for part in value.parts:
            if isinstance(part, dict):
                matches = [k for k in part if self.config_matches(k)]
                if len(matches) > 1:
                    raise BuildError("select() with several matching keys: %s" % matches)
                part = part[matches[0]] if matches else part.get("//conditions:default")
                if part is None:
                    raise BuildError("select() with no matching key: %s" % list(value.parts))
            parts.append(self.resolve(part))
        # A string attribute (a genrule's cmd) concatenates strings; the others, lists.
        if all(isinstance(part, str) for part in parts):
            return "".join(parts)
        if any(isinstance(part, str) for part in parts):
            raise BuildError("select() concatenates a string with a list: %s" % list(value.parts))
        result = []
        for part in parts:
            result += part
        return result

    def attr(self, rule, name):
        return self.resolve(rule.attrs.get(name, []))

    # ----- files and genrules -----
    def generating_rule(self, package, name):
        """The genrule in `package` one of whose outs is `name`, or None."""
        self.load_package(package)
        for rule in self.rules.values():
            if rule.package == package and rule.kind == "genrule" and name in self.attr(rule, "outs"):
                return rule
        return None

    def files(self, label, package, genrules):
        """Paths of the files a label in srcs/hdrs stands for; their genrules go into `genrules`."""
        pkg, name = self.parse_label(label, package)
        rule = self.rule(label, package)
        if rule is not None and rule.kind == "filegroup":
            return [f for s in self.attr(rule, "srcs") for f in self.files(s, pkg, genrules)]
        if rule is not None and rule.kind == "genrule":
            self.add_genrule(rule, genrules)
            return ["%s/%s/%s" % (self.gendir, pkg, out) for out in self.attr(rule, "outs")]
        if rule is not None:
            raise BuildError("%s (a %s) used as a file" % (rule.label(), rule.kind))
        generator = self.generating_rule(pkg, name)
        if generator is not None:
            self.add_genrule(generator, genrules)
            return ["%s/%s/%s" % (self.gendir, pkg, name)]
        path = "%s/%s" % (pkg, name)
        if not (self.root / path).is_file():
            raise BuildError("%s in //%s: no such source file or rule" % (label, package))
        return [path]

    def add_genrule(self, rule, genrules):
        if rule.label() in genrules:
            return
        unknown = set(rule.attrs) - {"name", "srcs", "outs", "cmd", "visibility", "tools"}
        if unknown:
            raise BuildError("genrule %s uses %s" % (rule.label(), ", ".join(sorted(unknown))))
        srcs = {s: self.files(s, rule.package, genrules) for s in self.attr(rule, "srcs")}
        for tool in self.attr(rule, "tools"):
            srcs[tool] = self.files(tool, rule.package, genrules)
        outs = ["%s/%s/%s" % (self.gendir, rule.package, o) for o in self.attr(rule, "outs")]
        # Its level: one more than that of the genrules that make its inputs, so that genrules of
        # one level can run at once.
        inputs = {p for paths in srcs.values() for p in paths}
        level = 1 + max([lvl for o, _, lvl in genrules.values() if inputs & set(o)], default=-1)
        genrules[rule.label()] = (outs, self.expand(rule, srcs, outs), level)

    def expand(self, rule, srcs, outs):
        """The genrule's cmd with Bazel's substitutions made."""
        def location(label):
            pkg, name = self.parse_label(label, rule.package)
            for key, paths in srcs.items():
                if self.parse_label(key, rule.package) == (pkg, name):
                    return paths
            target = "%s/%s/%s" % (self.gendir, pkg, name)
            if pkg == rule.package and target in outs:
                return [target]
            raise BuildError("genrule %s: $(location %s) is not among its srcs or outs"
                             % (rule.label(), label))

        def substitute(match):
            token = match.group(1)
            if token == "$":
                return "$"
            if token == "@":
                if len(outs) != 1:
                    raise BuildError("genrule %s: $@ with %d outs" % (rule.label(), len(outs)))
                return shlex.quote(outs[0])
            if token == "(SRCS)":
                return " ".join(shlex.quote(p) for ps in srcs.values() for p in ps)
            if token == "(OUTS)":
                return " ".join(shlex.quote(o) for o in outs)
            if token in ("(RULEDIR)", "(@D)"):
                if token == "(@D)" and len(outs) != 1:
                    return shlex.quote("%s/%s" % (self.gendir, rule.package))
                return shlex.quote("%s/%s" % (self.gendir, rule.package)) if token == "(RULEDIR)" \
                    else shlex.quote(outs[0].rsplit("/", 1)[0])
            function, _, argument = token[1:-1].partition(" ")
            if function in ("location", "locations", "execpath", "execpaths"):
                return " ".join(shlex.quote(p) for p in location(argument.strip()))
            raise BuildError("genrule %s: make variable $%s is not supported" % (rule.label(), token))

        return re.sub(r"\$(\$|@|\([^)]*\))", substitute, self.resolve(rule.attrs["cmd"]))

    # ----- fuzz targets -----
    def closure(self, rule, seen):
        """cc_library rules reachable from `rule` through deps, in a stable depth-first order."""
        order = []
        for dep in self.attr(rule, "deps"):
            library = self.rule(dep, rule.package)
            if library is None or library.kind != "cc_library":
                raise BuildError("%s depends on %s, which is not a cc_library" % (rule.label(), dep))
            if library.label() in seen:
                continue
            seen.add(library.label())
            order += [library] + self.closure(library, seen)
        return order

    def check_cc(self, rule):
        unknown = set(rule.attrs) - CC_ATTRIBUTES
        if unknown:
            raise BuildError("%s uses %s, which build_graph.py does not apply"
                             % (rule.label(), ", ".join(sorted(unknown))))

    def fuzz_targets(self, package, macro):
        self.load_package(package)
        targets = [r for r in self.rules.values() if r.package == package
                   and r.kind == "cc_binary" and r.generator and r.generator[0] == macro]
        if not targets:
            raise BuildError("no %s in //%s" % (macro, package))
        return targets


def emit(graph, targets):
    """Bash assignments: targets, genrule_outputs/genrule_commands/genrule_levels (a genrule's
    inputs are made by genrules of lower levels),
    sources (union), source_copts[path], target_sources[t], target_archives[t] (archives that
    genrules make, linked as they are: sim/instrumented.bzl's instrumented_library),
    target_linkopts[t], target_corpus[t], target_dict[t]."""
    lines = []
    genrules = {}
    sources = []
    copts = {}

    def quote_list(items):
        return " ".join(shlex.quote(i) for i in items)

    def words(items):
        for item in items:
            if re.search(r"\s", item):
                raise BuildError("%r contains white space" % item)
        return shlex.quote(" ".join(items))

    lines.append("targets=(%s)" % quote_list(t.name for t in targets))
    lines.append("declare -A source_copts target_sources target_archives target_linkopts "
                 "target_corpus target_dict")
    for target in targets:
        graph.check_cc(target)
        target_files = []
        target_archives = []
        linkopts = []
        libraries = graph.closure(target, set())
        for rule in [target] + libraries:
            graph.check_cc(rule)
            for header in graph.attr(rule, "hdrs"):
                graph.files(header, rule.package, genrules)  # generated headers must exist
            for src in graph.attr(rule, "srcs"):
                for path in graph.files(src, rule.package, genrules):
                    if path.endswith(".a"):
                        target_archives.append(path)
                        continue
                    if not path.endswith(COMPILED_EXTENSIONS):
                        continue
                    target_files.append(path)
                    if path not in copts:
                        sources.append(path)
                        copts[path] = graph.attr(rule, "copts")
            if rule is not target:  # the target's own linkopts are the engine's (-fsanitize=fuzzer)
                linkopts += [o for o in graph.attr(rule, "linkopts") if o not in linkopts]
        kwargs = target.generator[1]
        if "dict" not in kwargs:
            raise BuildError("%s has no dict" % target.label())
        dictionary = graph.files(kwargs["dict"], target.package, genrules)
        lines.append("target_sources[%s]=%s" % (target.name, words(target_files)))
        lines.append("target_archives[%s]=%s" % (target.name, words(target_archives)))
        lines.append("target_linkopts[%s]=%s" % (target.name, words(linkopts)))
        lines.append("target_corpus[%s]=%s" % (target.name, shlex.quote(kwargs["corpus_dir"])))
        lines.append("target_dict[%s]=%s" % (target.name, shlex.quote(dictionary[0])))
    lines.append("sources=(%s)" % quote_list(sources))
    for path in sources:
        lines.append("source_copts[%s]=%s" % (shlex.quote(path), words(copts[path])))
    lines.append("genrule_outputs=(%s)" % " ".join(words(outs) for outs, _, _ in genrules.values()))
    lines.append("genrule_commands=(%s)" % quote_list(cmd for _, cmd, _ in genrules.values()))
    lines.append("genrule_levels=(%s)" % " ".join(str(lvl) for _, _, lvl in genrules.values()))
    return "\n".join(lines)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: build_graph.py ROOT GENDIR [--define K=V ...]\n")
        return 2
    defines = {}
    rest = argv[3:]
    while rest:
        if rest[0] != "--define" or len(rest) < 2 or "=" not in rest[1]:
            sys.stderr.write("build_graph.py: expected --define K=V, got %s\n" % " ".join(rest))
            return 2
        key, _, value = rest[1].partition("=")
        defines[key] = value
        rest = rest[2:]
    graph = Graph(argv[1], argv[2], defines)
    try:
        print(emit(graph, graph.fuzz_targets("fuzz", "switchyard_fuzz_target")))
    except (BuildError, OSError, SyntaxError) as e:
        sys.stderr.write("build_graph.py: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
