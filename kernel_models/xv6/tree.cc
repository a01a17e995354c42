#include "kernel_models/xv6/tree.h"

#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arch/emu/elf_image.h"
#include "base/check.h"
#include "kernel_models/xv6/builtin_sources.h"
#include "kernel_models/xv6/platform_sources.h"
#include "sim/instrumentation.h"
#include "sim/platform.h"
#include "sim/platform_host.h"

namespace switchyard::xv6 {
namespace {

// The tree's files that are compiled (instrumented), and the headers they need.
constexpr const char* kCompiled[] = {"proc.c", "spinlock.c", "sleeplock.c", "kalloc.c", "vm.c",
                                     "trap.c", "syscall.c",  "sysproc.c",   "bio.c"};
constexpr const char* kHeaders[] = {"types.h", "param.h",   "spinlock.h", "sleeplock.h", "proc.h",
                                    "defs.h",  "syscall.h", "fs.h",       "buf.h"};
// The cross compiler that assembles a tree's swtch.S (tools/setup.sh installs it).
constexpr const char kRiscvCompiler[] = "riscv64-linux-gnu-gcc";
// RISC-V inline assembly that the platform maps onto a call (see BuildTree).
constexpr const char kWfi[] = "asm volatile(\"wfi\")";
// libFuzzer's coverage for the tree's kernel files (--config=fuzz_code_coverage defines
// SWITCHYARD_TREE_COVERAGE), so that the fuzzer is guided by the tree's own branches, as by the
// models' (sim/instrumented.bzl, which adds the same counters the same way). Empty otherwise.
#ifdef SWITCHYARD_TREE_COVERAGE
constexpr char kCoverage[] = "-fsanitize-coverage=inline-8bit-counters,indirect-calls,pc-table";
#else
constexpr char kCoverage[] = "";
#endif

// Symbols a module may leave to the executable or libc.
bool ProvidedByHost(const std::string& symbol) {
  return absl::StartsWith(symbol, "__tsan_") || absl::StartsWith(symbol, "sy_") ||
         (kCoverage[0] != 0 && absl::StartsWith(symbol, "__sanitizer_cov_")) ||
         symbol == "snprintf" || symbol == "_GLOBAL_OFFSET_TABLE_";
}

// The host address of xv6's TRAMPOLINE under the platform's riscv.h and memlayout.h.
constexpr uintptr_t kMaxVa = 0x500000000000;
constexpr uintptr_t kTrampoline = kMaxVa - 4096;

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return true;
}

bool WriteFileAtomically(const std::string& path, const std::string& data) {
  const std::string temporary = absl::StrCat(path, ".tmp", getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) return false;
    out << data;
    if (!out.good()) return false;
  }
  return std::rename(temporary.c_str(), path.c_str()) == 0;
}

// FNV-1a: a hash that is the same in every process (absl's is seeded per process).
uint64_t Fnv(uint64_t h, const std::string& data) {
  for (unsigned char c : data) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

bool MakeDirectories(const std::string& path) {
  std::string at;
  for (absl::string_view part : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    absl::StrAppend(&at, "/", part);
    if (mkdir(at.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

// Runs argv; its stdout and stderr go to *output. Returns the exit status (-1: could not run).
int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  close(fds[1]);
  char chunk[4096];
  for (;;) {
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output->append(chunk, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string DefaultCacheDir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg == '/') {
    return absl::StrCat(xdg, "/switchyard");
  }
  const char* home = std::getenv("HOME");
  return absl::StrCat(home != nullptr ? home : "/tmp", "/.cache/switchyard");
}

// Symbols from `nm -P` output: (name, type) per line.
std::vector<std::pair<std::string, char>> Symbols(const std::string& nm_output) {
  std::vector<std::pair<std::string, char>> out;
  for (absl::string_view line : absl::StrSplit(nm_output, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
    if (fields.size() >= 2 && fields[1].size() == 1) {
      out.emplace_back(std::string(fields[0]), fields[1][0]);
    }
  }
  return out;
}

// The tree's sources that a build reads (name -> contents, in name order): the compiled files,
// the headers they need, and every other header of kernel/ (a lab's own). `tree` is absolute.
absl::Status ReadTreeSources(const std::string& tree, std::map<std::string, std::string>* sources) {
  const std::string kernel = tree + "/kernel";
  for (const char* name : kCompiled) {
    if (!ReadFile(kernel + "/" + name, &(*sources)[name])) {
      return absl::InvalidArgumentError(
          absl::StrCat(tree, " is not an xv6-riscv tree: it has no kernel/", name,
                       " (give the directory that holds kernel/ and user/)"));
    }
  }
  for (const char* name : kHeaders) {
    if (!ReadFile(kernel + "/" + name, &(*sources)[name])) {
      return absl::InvalidArgumentError(
          absl::StrCat(tree, " is not an xv6-riscv tree: it has no kernel/", name));
    }
  }
  if (DIR* d = opendir(kernel.c_str()); d != nullptr) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (absl::EndsWith(name, ".h") && !sources->count(name))
        ReadFile(kernel + "/" + name, &(*sources)[name]);
    }
    closedir(d);
  }
  // printf.c is not compiled, but the helpers a lab adds there are stubbed (BuildTree).
  if (std::string text; ReadFile(kernel + "/printf.c", &text)) (*sources)["printf.c"] = text;
  // swtch.S is assembled for the RISC-V emulator (--swtch=1), not compiled into the module.
  if (std::string text; ReadFile(kernel + "/swtch.S", &text)) (*sources)["swtch.S"] = text;
  return absl::OkStatus();
}

// C source with its comments replaced by a space each (newlines kept, so that lines keep their
// numbers); string and character literals are left alone.
std::string WithoutComments(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < text.size() && text[j] != c && text[j] != '\n') j += text[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, text.size());
      out.append(text, i, j - i);
      i = j;
    } else if (text.compare(i, 2, "//") == 0) {
      while (i < text.size() && text[i] != '\n') ++i;
      out += ' ';
    } else if (text.compare(i, 2, "/*") == 0) {
      size_t close = text.find("*/", i + 2);
      close = close == std::string::npos ? text.size() : close + 2;
      out += ' ';
      for (size_t k = i; k < close; ++k) {
        if (text[k] == '\n') out += '\n';
      }
      i = close;
    } else {
      out += c;
      ++i;
    }
  }
  return out;
}

bool IsIdentifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// The identifier at the start of `text` after blanks ("" if none).
std::string LeadingIdentifier(absl::string_view text) {
  text = absl::StripLeadingAsciiWhitespace(text);
  size_t n = 0;
  while (n < text.size() && IsIdentifierChar(text[n])) ++n;
  return std::string(text.substr(0, n));
}

}  // namespace

std::string TreeRiscvDefinitions(const std::string& tree_riscv_h, const std::string& tree_path,
                                 const std::string& platform_headers) {
  std::set<std::string> platform_names;
  const std::string platform = WithoutComments(platform_headers);
  for (size_t i = 0; i < platform.size();) {
    if (!IsIdentifierChar(platform[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < platform.size() && IsIdentifierChar(platform[j])) ++j;
    platform_names.insert(platform.substr(i, j - i));
    i = j;
  }
  std::string out = absl::StrCat(
      "// Generated by switchyard from ", tree_path,
      ": its preprocessor lines that the platform's riscv.h lacks (see there).\n#line 1 \"",
      tree_path, "\"\n");
  const std::vector<std::string> lines = absl::StrSplit(WithoutComments(tree_riscv_h), '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    // A directive continues over lines that end in a backslash (a multi-line macro): it is
    // kept or left out whole, its lines as empty lines, so that later lines keep their numbers.
    std::string directive = lines[i];
    size_t continued = 0;
    while (absl::EndsWith(absl::StripTrailingAsciiWhitespace(directive), "\\") &&
           i + continued + 1 < lines.size()) {
      directive = absl::StrCat(absl::StripTrailingAsciiWhitespace(directive), "\n",
                               lines[i + continued + 1]);
      ++continued;
    }
    absl::string_view rest = absl::StripLeadingAsciiWhitespace(directive);
    bool keep = false;
    if (absl::ConsumePrefix(&rest, "#")) {
      const std::string keyword = LeadingIdentifier(rest);
      rest = absl::StripLeadingAsciiWhitespace(rest);
      rest.remove_prefix(keyword.size());
      if (keyword == "define" || keyword == "undef") {
        keep = !platform_names.count(LeadingIdentifier(rest));
      } else {
        // Conditionals as the tree wrote them; not #include (the tree's riscv.h includes
        // nothing the platform needs), #error, #pragma or #line.
        keep = keyword == "if" || keyword == "ifdef" || keyword == "ifndef" || keyword == "elif" ||
               keyword == "else" || keyword == "endif";
      }
    }
    if (keep) {
      absl::StrAppend(&out, directive, "\n");
    } else {
      absl::StrAppend(&out, std::string(continued + 1, '\n'));
    }
    i += continued;
  }
  return out;
}

namespace {

std::string SourcesFingerprint(const std::map<std::string, std::string>& sources) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const auto& [name, text] : sources) hash = Fnv(Fnv(hash, name), text);
  return absl::StrFormat("%016x", hash);
}

// Whether C source `text` defines a function `name` at file scope: a line that does not start
// with a blank (xv6's style puts a definition's name or its return type at the line's start),
// names `name(` after its start, a blank or a `*`, and does not end in `;` (a declaration).
bool DefinesFunction(const std::string& text, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (line.empty() || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '/') {
      continue;
    }
    if (absl::EndsWith(absl::StripTrailingAsciiWhitespace(line), ";")) continue;
    for (size_t at = line.find(name); at != absl::string_view::npos; at = line.find(name, at + 1)) {
      if (at > 0 && line[at - 1] != ' ' && line[at - 1] != '*') continue;
      absl::string_view after = absl::StripLeadingAsciiWhitespace(line.substr(at + name.size()));
      if (absl::StartsWith(after, "(")) return true;
    }
  }
  return false;
}

absl::StatusOr<std::string> ResolveTree(const std::string& tree_arg) {
  char resolved[PATH_MAX];
  if (realpath(tree_arg.c_str(), resolved) == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernel=", tree_arg, ": ", std::strerror(errno)));
  }
  return std::string(resolved);
}

}  // namespace

absl::StatusOr<std::string> TreeSourcesFingerprint(const std::string& tree_arg) {
  absl::StatusOr<std::string> tree = ResolveTree(tree_arg);
  if (!tree.ok()) return tree.status();
  std::map<std::string, std::string> sources;
  absl::Status read = ReadTreeSources(*tree, &sources);
  if (!read.ok()) return read;
  return SourcesFingerprint(sources);
}

namespace {

// The tree's swtch.S, for --swtch=1: assembled and linked alone at the emulator's address into
// `dir`/swtch.elf, or `dir`/swtch.err saying in one line why not (no such file, the assembler's
// own messages). A tree whose swtch.S does not assemble still runs natively. A cross compiler
// that is not installed leaves neither file, so that a later build tries again once it is.
// --discard-all: a local label inside swtch (a loop's) is not taken for the end of its code.
absl::Status AssembleSwtch(const std::string& dir, const std::string& kernel, bool has_swtch,
                           const std::string& tree) {
  if (!has_swtch) {
    if (!WriteFileAtomically(dir + "/swtch.err", absl::StrCat(tree, " has no kernel/swtch.S"))) {
      return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
    }
    return absl::OkStatus();
  }
  const std::string tmp = absl::StrCat(dir, "/swtch.elf.tmp", getpid());
  std::vector<std::string> argv = {kRiscvCompiler,
                                   "-ffreestanding",
                                   "-nostdlib",
                                   "-static",
                                   "-fno-pic",
                                   "-fno-pie",
                                   "-no-pie",
                                   "-Wl,--build-id=none",
                                   "-Wl,-N",
                                   "-Wl,--no-warn-rwx-segments",
                                   "-Wl,--discard-all",
                                   absl::StrFormat("-Wl,-Ttext=%#x", kSwtchTextAddress),
                                   "-Wl,-e,swtch",
                                   "-I",
                                   kernel,
                                   kernel + "/swtch.S",
                                   "-o",
                                   tmp};
  std::string output;
  const int status = RunCommand(argv, &output);
  if (status == 127 && absl::StartsWith(output, "cannot run ")) return absl::OkStatus();
  if (status == 0 && std::rename(tmp.c_str(), (dir + "/swtch.elf").c_str()) == 0) {
    return absl::OkStatus();
  }
  std::remove(tmp.c_str());
  // The assembler's lines joined into one.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(output, '\n', absl::SkipWhitespace())) {
    lines.emplace_back(absl::StripAsciiWhitespace(line));
  }
  if (!WriteFileAtomically(
          dir + "/swtch.err",
          absl::StrCat(kernel, "/swtch.S cannot be assembled and linked for RISC-V (",
                       kRiscvCompiler, "): ", absl::StrJoin(lines, "; ")))) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
  }
  return absl::OkStatus();
}

// BuildTree's record of the tree's swtch.S in the cache directory `dir`: swtch.elf, or swtch.err
// saying why there is none.
void FindSwtchRoutine(const std::string& dir, BuiltTree* built) {
  if (access((dir + "/swtch.elf").c_str(), R_OK) == 0) {
    built->swtch_elf = dir + "/swtch.elf";
    built->swtch_error.clear();
    built->notes.push_back("swtch.S: assembled for --swtch=1");
  } else if (access((dir + "/swtch.err").c_str(), R_OK) != 0) {
    built->swtch_error = absl::StrCat("the RISC-V cross compiler ", kRiscvCompiler,
                                      " is not installed (tools/setup.sh installs it)");
  } else if (!ReadFile(dir + "/swtch.err", &built->swtch_error)) {
    built->swtch_error = absl::StrCat(dir, "/swtch.err: ", std::strerror(errno));
  }
}

}  // namespace

absl::StatusOr<BuiltTree> BuildTree(const std::string& tree_arg, const std::string& cache_arg,
                                    const std::function<void(const std::string&)>& progress) {
  absl::StatusOr<std::string> resolved = ResolveTree(tree_arg);
  if (!resolved.ok()) return resolved.status();
  BuiltTree built;
  built.tree = *resolved;
  const std::string kernel = built.tree + "/kernel";
  std::map<std::string, std::string> sources;  // name -> contents, in name order
  absl::Status read = ReadTreeSources(built.tree, &sources);
  if (!read.ok()) return read;
  built.sources_fingerprint = SourcesFingerprint(sources);

  // What the tree offers.
  std::vector<std::string> defines;
  if (absl::StrContains(sources["trap.c"], "0x8000000000000005")) {
    defines.push_back("-DXV6_TIMER_SCAUSE=0x8000000000000005L");
    built.notes.push_back("timer: Sstc (supervisor timer interrupt, stimecmp)");
  } else {
    defines.push_back("-DXV6_TIMER_SCAUSE=0x8000000000000001L");
    built.notes.push_back("timer: machine-mode timervec (supervisor software interrupt)");
  }
  if (absl::StrContains(sources["defs.h"], "void            printf(") ||
      absl::StrContains(sources["defs.h"], "void printf(")) {
    defines.push_back("-DXV6_PRINTF_VOID");
  }
  for (const char* name : kCompiled) {
    if (absl::StrContains(sources[name], kWfi)) {
      built.notes.push_back(
          absl::StrCat(name, ": asm volatile(\"wfi\") runs as the platform's wfi"));
    }
  }
  // struct spinlock's owner field, for the release-clears-owner contract (lock_contracts.h).
  if (absl::StrContains(sources["spinlock.h"], "struct cpu *cpu;") ||
      absl::StrContains(sources["spinlock.h"], "struct cpu* cpu;")) {
    defines.push_back("-DXV6_SPINLOCK_HAS_CPU");
  }
  if (!absl::StrContains(sources["proc.h"], "intena")) {
    return absl::InvalidArgumentError(
        absl::StrCat(kernel,
                     "/proc.h has no field `intena` in struct cpu: the platform needs xv6-riscv's "
                     "push_off/pop_off bookkeeping"));
  }

  // -fno-inline: the contracts' ghost records find acquire(), release(), push_off() and
  // pop_off() by their code (lock_contracts.h); clang -O1 inlines pop_off() into release() when
  // both are in spinlock.c, and then pop_off()'s entry and exit never happen.
  // -fgnu89-inline: a function a tree defines as plain `inline` in a .c file (a cow lab's
  // `inline uint64 getpg(uint64 pa)` in kalloc.c) is, in C99, a definition for inlining only;
  // xv6's gcc -O inlines it, but under -fno-inline the call needs a definition that C99 never
  // emits. GNU89 semantics emit one, as the tree's author expected.
  const std::vector<std::string> flags = {"-fPIC",
                                          "-O1",
                                          "-fno-inline",
                                          "-fgnu89-inline",
                                          "-g",
                                          "-gcolumn-info",
                                          "-fno-omit-frame-pointer",
                                          "-ffreestanding",
                                          "-fno-builtin",
                                          "-fno-common",
                                          "-fno-stack-protector",
                                          "-w"};
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const auto& [name, text] : sources) hash = Fnv(Fnv(hash, name), text);
  for (const std::string& f : flags) hash = Fnv(hash, f);
  hash = Fnv(hash, kCoverage);
  for (const std::string& f : defines) hash = Fnv(hash, f);
  const std::string tree_riscv = TreeRiscvDefinitions(
      sources["riscv.h"], kernel + "/riscv.h", absl::StrCat(kPlatformRiscvH, kPlatformMemlayoutH));
  hash = Fnv(hash, tree_riscv);
  hash = Fnv(hash, kPlatformRiscvH);
  hash = Fnv(hash, kPlatformMemlayoutH);
  hash = Fnv(hash, kPlatformC);
  hash = Fnv(hash, kSimPlatformH);
  hash = Fnv(hash, built.tree);  // line tables name the tree's files by their path
  hash = Fnv(hash, kRiscvCompiler);
  built.fingerprint = absl::StrFormat("%016x", hash);

  const std::string cache = cache_arg.empty() ? DefaultCacheDir() : cache_arg;
  const std::string dir = absl::StrCat(cache, "/xv6-", built.fingerprint);
  built.module_path = dir + "/kernel.so";
  if (access(built.module_path.c_str(), R_OK) == 0) {
    built.cached = true;
    // Built when the cross compiler was missing: try its swtch.S again.
    if (access((dir + "/swtch.elf").c_str(), R_OK) != 0 &&
        access((dir + "/swtch.err").c_str(), R_OK) != 0) {
      if (absl::Status s = AssembleSwtch(dir, kernel, sources.count("swtch.S") != 0, built.tree);
          !s.ok()) {
        return s;
      }
    }
    FindSwtchRoutine(dir, &built);
    return built;
  }
  if (!MakeDirectories(dir + "/platform")) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create the cache directory ", dir, ": ", std::strerror(errno)));
  }
  // Several processes may build the same tree at once (explore's workers, tests running in
  // parallel): they would write the same objects and the same kernel.so.tmp. One builds while it
  // holds the directory's lock; the others wait for it and use its module.
  struct DirectoryLock {
    int fd;
    ~DirectoryLock() {
      if (fd >= 0) close(fd);  // releases the flock
    }
  } lock{open((dir + "/.lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644)};
  if (lock.fd >= 0) flock(lock.fd, LOCK_EX);
  if (access(built.module_path.c_str(), R_OK) == 0) {
    built.cached = true;
    FindSwtchRoutine(dir, &built);
    return built;
  }
  const std::string platform = dir + "/platform";
  if (!WriteFileAtomically(platform + "/riscv.h", kPlatformRiscvH) ||
      !WriteFileAtomically(platform + "/memlayout.h", kPlatformMemlayoutH) ||
      !WriteFileAtomically(platform + "/platform.c", kPlatformC) ||
      !WriteFileAtomically(platform + "/sy_platform.h", kSimPlatformH) ||
      !WriteFileAtomically(platform + "/sy_tree_riscv.h", tree_riscv)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write into ", platform));
  }
  // The overlay puts the platform's riscv.h and memlayout.h in place of the tree's, for the
  // compiler only: the tree is never written.
  const std::string overlay = absl::StrFormat(
      "{ 'version': 0, 'roots': [ { 'name': '%s', 'type': 'directory', 'contents': [\n"
      "  { 'name': 'riscv.h', 'type': 'file', 'external-contents': '%s/riscv.h' },\n"
      "  { 'name': 'memlayout.h', 'type': 'file', 'external-contents': '%s/memlayout.h' } ] } ] "
      "}\n",
      kernel, platform, platform);
  if (!WriteFileAtomically(dir + "/overlay.yaml", overlay)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
  }
  if (progress) {
    progress(absl::StrCat("compiling ", built.tree, " (", std::size(kCompiled),
                          " files of kernel/ with the xv6 platform) into ", dir));
  }
  std::vector<std::string> objects;
  auto compile = [&](const std::string& source, const std::string& object,
                     bool instrumented) -> absl::Status {
    // Coverage after the access instrumentation, from the instrumented IR: clang 14 runs the
    // coverage pass first, and ThreadSanitizer's would then make every counter increment an
    // access of the tree (sim/instrumented.bzl says more).
    const bool coverage = instrumented && kCoverage[0] != 0;
    const std::string ir = object + ".bc";
    std::vector<std::string> argv = {"clang",
                                     "-c",
                                     source,
                                     "-o",
                                     coverage ? ir : object,
                                     "-ivfsoverlay",
                                     dir + "/overlay.yaml",
                                     "-I",
                                     kernel,
                                     "-I",
                                     platform};
    if (instrumented) argv.push_back("-fsanitize=thread");
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), defines.begin(), defines.end());
    if (coverage) argv.push_back("-emit-llvm");
    std::string output;
    if (RunCommand(argv, &output) != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("the tree does not compile against the xv6 platform:\n", output));
    }
    if (coverage) {
      const int status =
          RunCommand({"clang", "-c", ir, "-o", object, "-O1", "-fPIC", kCoverage, "-w"}, &output);
      std::remove(ir.c_str());
      if (status != 0) {
        return absl::InternalError(
            absl::StrCat("adding coverage to ", object, " failed:\n", output));
      }
    }
    objects.push_back(object);
    return absl::OkStatus();
  };
  for (const char* name : kCompiled) {
    std::string source = kernel + "/" + name;
    // RISC-V instructions in inline assembly cannot be compiled for the host: such a file is
    // compiled from a copy in the cache with each replaced by its platform call on the same
    // line, and a #line directive that keeps the tree's own path and line numbers.
    const std::string& text = sources[name];
    if (absl::StrContains(text, kWfi)) {
      source = absl::StrCat(dir, "/", name);
      std::string copy = absl::StrCat("#line 1 \"", kernel, "/", name, "\"\n",
                                      absl::StrReplaceAll(text, {{kWfi, "sy_wfi()"}}));
      if (!WriteFileAtomically(source, copy)) {
        return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
      }
    }
    absl::Status s = compile(source, absl::StrCat(dir, "/", name, ".o"), true);
    if (!s.ok()) return s;
  }
  // platform.c includes the tree's headers as "types.h"...: it is compiled as if it were in the
  // tree's kernel/ directory, through the overlay.
  {
    absl::Status s = compile(platform + "/platform.c", dir + "/platform.o", false);
    if (!s.ok()) return s;
  }

  // Symbols: defined anywhere, needed by whom.
  std::set<std::string> defined;
  std::map<std::string, std::string> needed_by;
  for (const std::string& object : objects) {
    std::string output;
    if (RunCommand({"nm", "-P", object}, &output) != 0) {
      return absl::InternalError(absl::StrCat("nm failed on ", object, ": ", output));
    }
    for (const auto& [name, type] : Symbols(output)) {
      if (type == 'U') {
        needed_by.try_emplace(name, object.substr(object.rfind('/') + 1));
      } else {
        defined.insert(name);
      }
    }
  }
  std::string stubs =
      "// System calls whose files are not compiled fail; printf.c's helpers print nothing.\n";
  std::vector<std::string> missing;
  for (const auto& [name, who] : needed_by) {
    if (defined.count(name) || ProvidedByHost(name)) continue;
    if (absl::StartsWith(name, "sys_")) {
      absl::StrAppend(&stubs, "unsigned long ", name, "(void) { return (unsigned long)-1; }\n");
      continue;
    }
    // A helper of the tree's printf.c (a lab's debug printf), which the platform stands in for:
    // like the platform's printf, it prints nothing.
    if (auto printf_c = sources.find("printf.c");
        printf_c != sources.end() && DefinesFunction(printf_c->second, name)) {
      absl::StrAppend(&stubs, "long ", name, "() { return 0; }\n");
      continue;
    }
    missing.push_back(absl::StrCat("`", name, "` (needed by ", who.substr(0, who.size() - 2), ")"));
  }
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the tree needs ", absl::StrJoin(missing, ", "), ", which neither its compiled files (",
        absl::StrJoin(kCompiled, " "), ") nor the xv6 platform define"));
  }
  if (!WriteFileAtomically(dir + "/syscall_stubs.c", stubs)) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
  }
  {
    absl::Status s = compile(dir + "/syscall_stubs.c", dir + "/syscall_stubs.o", false);
    if (!s.ok()) return s;
  }
  // The symbols not bound inside the module: they are absolute (platform.c says why).
  if (!WriteFileAtomically(dir + "/dynamic_list",
                           "{ end; etext; trampoline; uservec; userret; };\n")) {
    return absl::InvalidArgumentError(absl::StrCat("cannot write into ", dir));
  }
  // The tree's swtch.S, for --swtch=1 (AssembleSwtch).
  if (absl::Status s = AssembleSwtch(dir, kernel, sources.count("swtch.S") != 0, built.tree);
      !s.ok()) {
    return s;
  }
  FindSwtchRoutine(dir, &built);
  std::vector<std::string> link = {"clang",
                                   "-shared",
                                   "-Wl,-z,relro,-z,now",
                                   "-Wl,-Bsymbolic",
                                   "-Wl,--dynamic-list=" + dir + "/dynamic_list",
                                   "-o",
                                   built.module_path + ".tmp"};
  link.insert(link.end(), objects.begin(), objects.end());
  std::string output;
  if (RunCommand(link, &output) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("linking the tree failed:\n", output));
  }
  if (std::rename((built.module_path + ".tmp").c_str(), built.module_path.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot write ", built.module_path, ": ", std::strerror(errno)));
  }
  return built;
}

namespace {

void (*init_entry)() = nullptr;
void InitBoot(int) {
  init_entry();
  sy_finish();
}

// --swtch=1 on a tree: every swtch() the tree makes also runs the tree's own swtch.S in the
// emulator, on register files of its own (swtch_emu.h); a context is numbered by the order in
// which the run first switches to or from it (never by its address).
class EmulatedTreeSwtch {
 public:
  // `emu`: the tree's emulator, Reset for this run; `layout`: the tree's (LockLayout::Find).
  EmulatedTreeSwtch(const SwtchRoutine& routine, const LockLayout& layout, EmulatedSwtch& emu,
                    sim::Simulator& sim)
      : routine_(routine), layout_(layout), emu_(emu), sim_(sim) {
    // allocproc's ra is a host address of the tree's code (forkret): shown by its name, the same
    // in every process.
    emu_.SetValueNamer([](uint64_t value) {
      Dl_info info;
      if (dladdr(reinterpret_cast<void*>(value), &info) != 0 && info.dli_sname != nullptr &&
          reinterpret_cast<uint64_t>(info.dli_saddr) == value) {
        return std::string(info.dli_sname);
      }
      return absl::StrFormat("%#x", value);
    });
  }

  void Swtch(const void* old, const void* next, bool starts) {
    const int from = Number(old);
    const int to = Number(next);
    if (starts) {
      // What allocproc wrote through the tree's own struct context: ra = forkret and sp = the
      // top of the kernel stack.
      uint64_t ra = 0, sp = 0;
      std::memcpy(&ra, static_cast<const char*>(next) + routine_.ra_offset, 8);
      std::memcpy(&sp, static_cast<const char*>(next) + routine_.sp_offset, 8);
      emu_.InitContext(to, ra, sp);
    }
    std::string why = emu_.Swtch(from, to);
    // Moved, not copied: Fail() never returns.
    if (!why.empty()) sim_.Fail("swtch-restores-registers", std::move(why));
  }

 private:
  int Number(const void* context) {
    auto [it, added] = numbers_.try_emplace(context, static_cast<int>(numbers_.size()));
    if (added && it->second >= emu_.contexts()) {
      sim_.Fail("swtch-restores-registers",
                absl::StrFormat("swtch() was given more than NPROC + NCPU = %d different "
                                "contexts: one is neither a process's nor a CPU's",
                                emu_.contexts()));
    }
    if (added) emu_.SetName(it->second, NameOf(context));
    return it->second;
  }

  // The tree's own name for a context: proc[i].context or cpus[i].context.
  std::string NameOf(const void* context) const {
    const LockLayout& l = layout_;
    const auto at = reinterpret_cast<uintptr_t>(context);
    if (l.InProcs(at, 1)) return absl::StrCat("proc[", (at - l.proc) / l.sizeof_proc, "].context");
    if (l.InCpus(at, 1)) return absl::StrCat("cpus[", (at - l.cpus) / l.sizeof_cpu, "].context");
    return "a context outside proc[] and cpus[]";
  }

  SwtchRoutine routine_;
  const LockLayout& layout_;
  EmulatedSwtch& emu_;
  sim::Simulator& sim_;
  std::map<const void*, int> numbers_;  // looked up, never iterated
};

EmulatedTreeSwtch* active_swtch = nullptr;  // the running run's, if it emulates swtch.S

// The platform's xv6_swtch_hook: the contracts' record of what runs where, then the emulated
// swtch.S (which may fail the run).
void OnSwtch(const void* old, const void* next, int starts) {
  LockContracts::OnSwtch(old, next, starts);
  if (active_swtch != nullptr) active_swtch->Swtch(old, next, starts != 0);
}

}  // namespace

absl::StatusOr<std::unique_ptr<LoadedTree>> LoadedTree::Load(const BuiltTree& built) {
  auto loaded = sim::Module::Load(built.module_path);
  if (!loaded.ok()) return loaded.status();
  auto tree = std::unique_ptr<LoadedTree>(new LoadedTree());
  tree->built_ = built;
  tree->module_ = std::move(*loaded);
  sim::Module& m = *tree->module_;
  auto symbol = [&m](const char* name) { return m.Symbol(name); };
  tree->boot_ = reinterpret_cast<void (*)(int)>(symbol("xv6_boot"));
  tree->start_ = reinterpret_cast<void (*)()>(symbol("xv6_platform_start"));
  tree->check_cpu_proc_ = reinterpret_cast<int (*)(char*, int, int)>(symbol("xv6_check_cpu_proc"));
  tree->describe_ = reinterpret_cast<void (*)(char*, int)>(symbol("xv6_describe"));
  auto* init = reinterpret_cast<void (*)()>(symbol("xv6_init"));
  auto* userret_entry = symbol("xv6_userret");
  auto* trampoline = static_cast<char*>(symbol("trampoline"));
  auto* userret = static_cast<char*>(symbol("userret"));
  auto* ncpu = static_cast<int*>(symbol("xv6_ncpu"));
  if (tree->boot_ == nullptr || tree->start_ == nullptr || init == nullptr ||
      userret_entry == nullptr || trampoline == nullptr || userret == nullptr || ncpu == nullptr ||
      tree->check_cpu_proc_ == nullptr || tree->describe_ == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(built.module_path, " is not a module of the xv6 platform"));
  }
  tree->ncpu_ = *ncpu;
  tree->planted_bug_ = static_cast<int*>(symbol("xv6_planted_bug"));
  tree->workload_ = static_cast<TreeWorkload*>(symbol("xv6_workload"));
  auto* workload_size = static_cast<const uint64_t*>(symbol("xv6_workload_size"));
  if (tree->workload_ == nullptr || workload_size == nullptr ||
      *workload_size != sizeof(TreeWorkload)) {
    return absl::InvalidArgumentError(absl::StrCat(
        built.module_path, " is not a module of this version of the xv6 platform (its workload)"));
  }
  tree->locks_ = LockLayout::Find(m);
  // Set before the initialisation, so that the snapshot every run starts from has it.
  auto* user_entry_hook = static_cast<void (**)(int, int)>(symbol("xv6_user_entry_hook"));
  if (user_entry_hook == nullptr) {
    tree->locks_.skipped.push_back(
        "no-lock-held-in-user-mode (the module has no xv6_user_entry_hook of the platform)");
  } else {
    *user_entry_hook = &LockContracts::OnUserEntry;
  }
  auto* swtch_hook =
      static_cast<void (**)(const void*, const void*, int)>(symbol("xv6_swtch_hook"));
  if (swtch_hook == nullptr) {
    tree->locks_.skipped.push_back(
        "the threads' CPUs in messages, and a process's reads of its own fields without its lock "
        "(the module has no xv6_swtch_hook of the platform)");
  } else {
    *swtch_hook = &OnSwtch;
    tree->locks_.swtch_hook = true;
  }
  // The tree's swtch.S for --swtch=1, and the C side's struct context that it serves (from the
  // platform's xv6_layout). Anything wrong here only makes --swtch=1 an error (swtch_error_):
  // the tree still runs natively.
  const LockLayout& layout = tree->locks_;
  tree->swtch_error_ = built.swtch_error;
  const int swtch_contexts = layout.nproc + tree->ncpu_;
  if (swtch_hook == nullptr || layout.sizeof_context == 0) {
    tree->swtch_error_ = "the module has no xv6_swtch_hook or xv6_layout of the platform";
  } else if (built.swtch_elf.empty()) {
    // swtch_error_ says why.
  } else if (!ReadFile(built.swtch_elf, &tree->swtch_image_)) {
    tree->swtch_error_ = absl::StrCat("cannot read ", built.swtch_elf, ": ", std::strerror(errno));
  } else if (swtch_contexts > EmulatedSwtch::kMaxContexts) {
    tree->swtch_error_ =
        absl::StrFormat("NPROC + NCPU is %d, more contexts than the emulated swtch keeps (%d)",
                        swtch_contexts, EmulatedSwtch::kMaxContexts);
  } else {
    // The linker's own output (AssembleSwtch), which emu::Elf checks.
    tree->swtch_elf_ = std::make_unique<emu::Elf>(
        emu::ElfImage{"swtch.S", reinterpret_cast<const unsigned char*>(tree->swtch_image_.data()),
                      tree->swtch_image_.size(), ""});
    SwtchRoutine& r = tree->swtch_routine_;
    r.elf = tree->swtch_elf_.get();
    const emu::Symbol* swtch = r.elf->FindSymbol("swtch");
    if (swtch == nullptr) {
      tree->swtch_error_ = absl::StrCat(built.tree, "/kernel/swtch.S defines no `swtch`");
    } else {
      // swtch's code: its size if swtch.S gives one (.size), else up to the next symbol the
      // linker placed above it (its data, or _edata; local labels were discarded), and never
      // past its segment.
      r.begin = swtch->address;
      r.end = UINT64_MAX;
      if (swtch->size > 0) {
        r.end = r.begin + swtch->size;
      } else {
        for (const emu::Symbol& other : r.elf->symbols()) {
          if (other.address > r.begin) r.end = std::min(r.end, other.address);
        }
      }
      for (const emu::Segment& segment : r.elf->segments()) {
        if (segment.address <= r.begin && r.begin < segment.address + segment.bytes.size()) {
          r.end = std::min<uint64_t>(r.end, segment.address + segment.bytes.size());
        }
      }
      r.ra_offset = layout.context_ra;
      r.sp_offset = layout.context_sp;
      r.context_size = layout.sizeof_context;
      r.planted_bug_word = r.elf->Find("swtch_planted_bug");
      tree->swtch_contexts_ = swtch_contexts;
      tree->swtch_error_.clear();
      // What EmulatedSwtch requires, as errors of --swtch=1 rather than checks that abort.
      if (r.end <= r.begin) {
        tree->swtch_error_ = absl::StrCat(built.tree, "/kernel/swtch.S: `swtch` has no code");
      } else if (r.context_size < 16 || r.context_size > 4096) {
        tree->swtch_error_ = absl::StrCat("struct context is ", r.context_size,
                                          " bytes: the emulated swtch takes 16 to 4096");
      }
    }
  }
  // The trampoline page: usertrapret jumps to TRAMPOLINE + (userret - trampoline).
  void* page = mmap(reinterpret_cast<void*>(kTrampoline), 4096, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page != reinterpret_cast<void*>(kTrampoline)) {
    return absl::InternalError(
        absl::StrFormat("cannot map the trampoline page at 0x%x: %s (is another tree loaded?)",
                        kTrampoline, std::strerror(errno)));
  }
  auto* code = static_cast<unsigned char*>(page);
  std::memset(code, 0x0F, 4096);  // ud2 (0F 0B) pairs and stray 0F: uservec is never jumped to
  for (int i = 0; i < 4096; i += 2) code[i + 1] = 0x0B;
  unsigned char* stub = code + (userret - trampoline);
  const auto target = reinterpret_cast<uint64_t>(userret_entry);
  stub[0] = 0x48;  // movabs $target, %rax
  stub[1] = 0xB8;
  std::memcpy(stub + 2, &target, 8);
  stub[10] = 0xFF;  // jmp *%rax
  stub[11] = 0xE0;
  if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot protect the trampoline page: ", std::strerror(errno)));
  }
  // Physical memory at KERNBASE (memlayout.h), before the tree's kinit frees its pages; a region
  // of its own, restored before every run with the module's data.
  auto* phys_base = static_cast<const uint64_t*>(symbol("xv6_phys_base"));
  auto* phys_size = static_cast<const uint64_t*>(symbol("xv6_phys_size"));
  auto* end_seen = reinterpret_cast<char* (*)()>(symbol("xv6_end"));
  if (phys_base == nullptr || phys_size == nullptr || end_seen == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(built.module_path, " is not a module of the xv6 platform"));
  }
  void* memory = mmap(reinterpret_cast<void*>(*phys_base), *phys_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (memory != reinterpret_cast<void*>(*phys_base)) {
    return absl::InternalError(
        absl::StrFormat("cannot map the xv6 physical memory at 0x%x: %s (is another tree loaded?)",
                        *phys_base, std::strerror(errno)));
  }
  // The kernel's page (the trampoline), then `end` (platform.c).
  if (reinterpret_cast<uint64_t>(end_seen()) != *phys_base + 4096) {
    return absl::InternalError(
        absl::StrFormat("the module sees kalloc.c's `end` at %p, not at KERNBASE + 4096 (0x%x): "
                        "was it linked without its dynamic list?",
                        static_cast<void*>(end_seen()), *phys_base + 4096));
  }
  absl::Status registered = m.AddMemory(*phys_base, *phys_size, "xv6 physical memory");
  if (!registered.ok()) return registered;
  // The tree's own initialisation, once, then the snapshot every run starts from.
  sim::RandomDecider decider(0);
  sim::SimOptions options;
  options.cpus = 1;
  sim::Simulator simulator(options, decider);
  sim::Platform platform(simulator);
  init_entry = init;
  platform.Boot(0, &InitBoot);
  sim::Outcome out = simulator.Run();
  if (out.kind != sim::Outcome::Kind::kPass) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the tree's initialisation (kinit, procinit, trapinit, userinit) failed: ", out.invariant,
        ": ", out.message));
  }
  m.Snapshot();
  return tree;
}

void* LoadedTree::Symbol(const char* name) const { return module_->Symbol(name); }

sim::Outcome LoadedTree::Run(const TreeRunConfig& config, sim::Decider& decider,
                             sim::SimOptions options,
                             const std::function<void(const sim::Simulator&)>& after) const {
  module_->Reset();
  SY_CHECK(config.cpus >= 1 && config.cpus <= ncpu_);
  SY_CHECK(config.planted_bug == 0 || planted_bug_ != nullptr);
  if (planted_bug_ != nullptr) *planted_bug_ = config.planted_bug;
  const TreeWorkload& w = config.workload;
  SY_CHECK(w.children >= 0 && w.depth >= 0 && w.max_forks >= 0);
  SY_CHECK(w.program_length >= 1 && w.compute_max >= 1 && w.disk_latency_max >= 1 &&
           w.sleep_ticks_max >= 1);
  *workload_ = w;
  options.cpus = config.cpus;
  if (options.accesses_per_tick == 0) options.accesses_per_tick = 10;
  // The no-progress budget must outlast the slowest a correct run can be: under PCT a vCPU of
  // low priority runs only when the fairness window forces it, one step in about 200, and one
  // wakeup() of a 64-process tree is about 1,000 of its accesses (an acquire and release of every
  // p->lock). 200,000 ticks (2,000,000 accesses at 10 a tick) leave such a vCPU about 10,000
  // steps of its own between two progress points; 20,000 ticks (the budget before the disk, whose
  // brelse() wakes up through all of proc[]) reported correct trees as no-progress.
  // A long sleep or disk request of a correct run must fit in it too.
  if (options.progress_budget_ticks == sim::SimOptions{}.progress_budget_ticks) {
    options.progress_budget_ticks = std::max<uint64_t>(
        200'000, 4 * static_cast<uint64_t>(w.disk_latency_max) +
                     (static_cast<uint64_t>(w.sleep_ticks_max) + 20) * config.timer_period);
  }
  // The same for the whole run: some 50,000 steps when the vCPUs share the work, up to 200 times
  // that when PCT leaves the one with work to do at the lowest priority for the whole run.
  if (options.max_steps == sim::SimOptions{}.max_steps) options.max_steps = 50'000'000;
  sim::Simulator simulator(options, decider);
  sim::Platform platform(simulator);
  // struct cpu is per-CPU memory (sim/instrumentation.h), as the C++ model's is: a vCPU's own
  // cpus[] entry is no point while it has interrupts off (push_off()'s noff and intena, myproc()'s
  // c->proc), and another vCPU's entry always is one (per-cpu-state-by-own-cpu judges it). Those
  // accesses still pass time, as every access of a tree does: code with interrupts off takes
  // about as long as before (its ticks pass at the next point), and a timer that comes due in it
  // is pending when interrupts come back on.
  if (locks_.cpus != 0 && locks_.ncpu > 0 && locks_.sizeof_cpu > 0) {
    sim::Instrumentation::DeclareForRun(reinterpret_cast<const void*>(locks_.cpus),
                                        static_cast<size_t>(locks_.ncpu) * locks_.sizeof_cpu,
                                        sim::Instrumentation::RunMemory::kPerCpu, locks_.sizeof_cpu,
                                        /*passes_time=*/true);
  }
  // The tree's swtch.S in the emulator at every swtch(), if asked for (or planted with a bug).
  const bool swtch_bug = config.planted_bug == kSwtchForgetsS11Bug;
  SY_CHECK(!(config.swtch_emulated || swtch_bug) || has_swtch_routine());
  SY_CHECK(!swtch_bug || swtch_routine_.planted_bug_word.has_value());
  std::optional<EmulatedTreeSwtch> swtch;
  if (config.swtch_emulated || swtch_bug) {
    if (swtch_emu_ == nullptr) {
      swtch_emu_ = std::make_unique<EmulatedSwtch>(swtch_routine_, swtch_contexts_, false);
    }
    swtch_emu_->Reset(swtch_bug);
    swtch.emplace(swtch_routine_, locks_, *swtch_emu_, simulator);
  }
  struct ActiveSwtch {
    explicit ActiveSwtch(EmulatedTreeSwtch* s) { active_swtch = s; }
    ~ActiveSwtch() { active_swtch = nullptr; }
  } active(swtch.has_value() ? &*swtch : nullptr);
  // The ghost record of spin-lock ownership and its contracts (lock_contracts.h); destroyed
  // before the simulator.
  std::optional<LockContracts> locks;
  if (config.lock_contracts && locks_.enabled) {
    locks.emplace(locks_, simulator, config.check_owner_field, config.cpu_proc_every_slot);
    locks->AddInvariants();
  }
  start_();
  for (int cpu = 0; cpu < config.cpus; ++cpu) {
    platform.Boot(cpu, boot_);
    simulator.SetPeriodicTimer(cpu, config.timer_period, config.timer_period + cpu);
  }
  const int cpus = config.cpus;
  auto* check = check_cpu_proc_;
  // The contracts check it against their record of what runs; without them, the platform's
  // version compares the tree's own fields with each other.
  if (!locks.has_value() || !locks_.swtch_hook) {
    simulator.AddInvariant("cpu-proc-agrees", [check, cpus](std::string* why) {
      char line[256];
      if (check(line, sizeof line, cpus) == 0) return true;
      *why = line;
      return false;
    });
  }
  auto* describe = describe_;
  platform.SetDescribeStuck([describe] {
    char text[2048] = "";
    describe(text, sizeof text);
    return std::string(text);
  });
  sim::Outcome out = simulator.Run();
  if (after) after(simulator);
  return out;
}

absl::StatusOr<std::string> WriteBuiltinTree(const std::string& cache_arg) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const auto& file : kBuiltinTree) hash = Fnv(Fnv(hash, file.name), file.text);
  const std::string cache = cache_arg.empty() ? DefaultCacheDir() : cache_arg;
  const std::string root = absl::StrFormat("%s/xv6-builtin-tree-%016x", cache, hash);
  if (!MakeDirectories(root + "/kernel")) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", root, "/kernel: ", std::strerror(errno)));
  }
  for (const auto& file : kBuiltinTree) {
    // The embedded text starts with the newline after the raw string's opening.
    const char* text = file.text[0] == '\n' ? file.text + 1 : file.text;
    if (!WriteFileAtomically(absl::StrCat(root, "/kernel/", file.name), text)) {
      return absl::InvalidArgumentError(absl::StrCat("cannot write into ", root, "/kernel"));
    }
  }
  return root;
}

absl::StatusOr<const LoadedTree*> LoadTreeOnce(const std::string& tree) {
  static std::string loaded_path;
  static LoadedTree* loaded = nullptr;
  if (loaded != nullptr) {
    if (tree == loaded_path) return loaded;
    return absl::InvalidArgumentError(absl::StrCat("one xv6 tree per process: ", loaded_path,
                                                   " is loaded, ", tree, " cannot be"));
  }
  auto built = BuildTree(tree, "", [](const std::string& line) {
    std::fprintf(stderr, "switchyard: %s\n", line.c_str());
  });
  if (!built.ok()) return built.status();
  auto load = LoadedTree::Load(*built);
  if (!load.ok()) return load.status();
  loaded = load->release();
  for (const std::string& skipped : loaded->skipped_checks()) {
    std::fprintf(stderr, "switchyard: check skipped on this tree: %s\n", skipped.c_str());
  }
  loaded_path = tree;
  return loaded;
}

}  // namespace switchyard::xv6
