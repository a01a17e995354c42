#include "views/symbolize.h"

#include <cxxabi.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "sim/trace.h"

extern char** environ;

namespace switchyard::views {
namespace {

std::string Basename(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string SelfExe() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// "switchyard::xv6::Kernel::sleep(void const*, switchyard::xv6::spinlock*)" -> "sleep".
std::string ShortFunction(const std::string& name) {
  if (name.empty() || name == "??") return "?";
  std::string s = name;
  // Cut the parameter list: the first '(' at template depth 0.
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '<') ++depth;
    if (s[i] == '>') --depth;
    if (s[i] == '(' && depth == 0 && i > 0) {
      s.resize(i);
      break;
    }
  }
  depth = 0;
  for (size_t i = s.size(); i-- > 0;) {
    if (s[i] == '>') ++depth;
    if (s[i] == '<') --depth;
    if (depth == 0 && i > 0 && s[i] == ':' && s[i - 1] == ':') return s.substr(i + 1);
  }
  return s;
}

// The path the compiler recorded, made relative to the workspace: Bazel compiles in a sandboxed
// execroot (".../execroot/switchyard/kernel_models/xv6/proc.cc") that is gone after the build.
std::string WorkspaceRelative(std::string path) {
  if (path.empty() || path == "??") return "";
  static constexpr std::string_view kExecroot = "/execroot/";
  if (size_t at = path.rfind(kExecroot); at != std::string::npos) {
    size_t workspace_end = path.find('/', at + kExecroot.size());  // execroot/WORKSPACE/...
    if (workspace_end != std::string::npos) path = path.substr(workspace_end + 1);
  }
  // Bazel's toolchain maps the execroot to /proc/self/cwd (-fdebug-prefix-map).
  if (absl::StartsWith(path, "/proc/self/cwd/")) path = path.substr(15);
  while (absl::StartsWith(path, "./")) path = path.substr(2);
  return path;
}

// The simulator's own headers: an access's frames inside them are not where the model stands.
bool IsSimulatorFrame(const std::string& file) { return absl::EndsWith(file, "sim/simulator.h"); }

// Runs `argv`, returns its standard output; false if it could not run or failed.
bool RunCapture(const std::vector<std::string>& argv, std::string* out) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return false;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
  posix_spawn_file_actions_addclose(&actions, pipefd[0]);
  posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    return false;
  }
  char buf[65536];
  ssize_t n;
  while ((n = read(pipefd[0], buf, sizeof buf)) > 0) out->append(buf, static_cast<size_t>(n));
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

class SourceFiles {
 public:
  SourceFiles() : roots_(SourceRoots()) {}
  // The trimmed text of `line` of workspace-relative `file`, or "".
  std::string Line(const std::string& file, int line) {
    auto it = files_.find(file);
    if (it == files_.end()) it = files_.emplace(file, Load(file)).first;
    const std::vector<std::string>& lines = it->second;
    if (line < 1 || static_cast<size_t>(line) > lines.size()) return "";
    return std::string(absl::StripAsciiWhitespace(lines[line - 1]));
  }

 private:
  std::vector<std::string> Load(const std::string& file) {
    std::vector<std::string> lines;
    std::vector<std::string> candidates;
    if (!file.empty() && file[0] == '/') {
      candidates.push_back(file);
    } else {
      for (const std::string& root : roots_) candidates.push_back(root + "/" + file);
    }
    for (const std::string& path : candidates) {
      std::ifstream in(path);
      if (!in) continue;
      for (std::string l; std::getline(in, l);) lines.push_back(l);
      break;
    }
    return lines;
  }
  std::vector<std::string> roots_;
  std::map<std::string, std::vector<std::string>> files_;
};

struct Module {
  std::string path;
  std::vector<std::pair<const void*, uintptr_t>> pcs;  // address, offset in the module
};

}  // namespace

std::string SourceLocation::Short() const {
  if (has_line()) return absl::StrCat(function, " ", Basename(file), ":", line);
  bool named = function != "?" && !function.empty();
  if (named && !absl::StartsWith(fallback, function)) {
    return fallback.empty() ? function : absl::StrCat(function, " (", fallback, ")");
  }
  return fallback.empty() ? "?" : fallback;
}

std::string SourceLocation::Long() const {
  if (has_line()) return absl::StrCat(function, " (", file, ":", line, ")");
  return Short();
}

std::vector<std::string> SourceRoots() {
  std::vector<std::string> roots;
  for (const char* var : {"SWITCHYARD_SOURCE_ROOT", "BUILD_WORKSPACE_DIRECTORY"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') roots.push_back(v);
  }
  if (const char* srcdir = std::getenv("TEST_SRCDIR")) {
    const char* ws = std::getenv("TEST_WORKSPACE");
    roots.push_back(absl::StrCat(srcdir, "/", ws != nullptr ? ws : "switchyard"));
  }
  // A binary under bazel-out: its execroot links to the workspace's top-level directories.
  std::string exe = SelfExe();
  if (size_t at = exe.find("/bazel-out/"); at != std::string::npos) {
    roots.push_back(exe.substr(0, at));
  }
  roots.push_back(".");
  return roots;
}

std::string FindSymbolizer() {
  if (const char* v = std::getenv("SWITCHYARD_SYMBOLIZER"); v != nullptr) return v;
  std::vector<std::string> dirs = absl::StrSplit(
      std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin", ':', absl::SkipEmpty());
  for (const char* name : {"llvm-symbolizer", "llvm-symbolizer-14"}) {
    for (const std::string& dir : dirs) {
      std::string path = absl::StrCat(dir, "/", name);
      if (access(path.c_str(), X_OK) == 0) return path;
    }
  }
  for (const char* path : {"/usr/bin/llvm-symbolizer", "/usr/lib/llvm-14/bin/llvm-symbolizer"}) {
    if (access(path, X_OK) == 0) return path;
  }
  return "";
}

namespace {

// How far before an address of line 0 its nearest line is looked for, in bytes of code.
constexpr uintptr_t kLineSearchBytes = 48;

// The frames of one llvm-symbolizer answer outside the simulator's own headers, innermost first;
// the innermost frame when every frame is the simulator's.
std::vector<const nlohmann::json*> ModelFrames(const nlohmann::json& answer) {
  std::vector<const nlohmann::json*> model_frames;
  auto symbol = answer.is_object() ? answer.find("Symbol") : answer.end();
  if (symbol == answer.end() || !symbol->is_array()) return model_frames;
  const nlohmann::json& frames = *symbol;
  for (const nlohmann::json& f : frames) {
    if (!f.is_object()) continue;
    std::string file = WorkspaceRelative(f.value("FileName", ""));
    if (!IsSimulatorFrame(file)) model_frames.push_back(&f);
  }
  if (model_frames.empty() && !frames.empty() && frames[0].is_object()) {
    model_frames.push_back(&frames[0]);
  }
  return model_frames;
}

// The innermost model frame of an answer, or null.
const nlohmann::json* ModelFrame(const nlohmann::json& answer) {
  std::vector<const nlohmann::json*> frames = ModelFrames(answer);
  return frames.empty() ? nullptr : frames[0];
}

}  // namespace

Symbolized Symbolize(const std::vector<const void*>& pcs) {
  Symbolized result;
  std::set<const void*> unique(pcs.begin(), pcs.end());
  unique.erase(nullptr);
  // Group by module. A return address points after the call; the call is one byte earlier.
  std::map<std::string, Module> modules;
  const std::string self = SelfExe();
  Dl_info self_info{};
  dladdr(reinterpret_cast<const void*>(&Symbolize), &self_info);
  for (const void* pc : unique) {
    Dl_info info{};
    SourceLocation& loc = result.locations[pc];
    loc.function = "?";
    uint64_t address = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(pc));
    if ((address & sim::kEmulatedPcTag) != 0) {
      // Emulated code: the model that ran it describes it (sim/trace.h).
      address &= ~sim::kEmulatedPcTag;
      loc.fallback = absl::StrFormat("%#x", address);
      if (const sim::EmulatedCode& describe = sim::GetEmulatedCode()) {
        sim::EmulatedLocation where = describe(address);
        if (!where.function.empty()) loc.function = where.function;
        loc.file = where.file;
        loc.line = where.line;
        loc.text = where.text;
      }
      continue;
    }
    if (dladdr(pc, &info) == 0 || info.dli_fbase == nullptr) continue;
    std::string path = info.dli_fbase == self_info.dli_fbase || info.dli_fname == nullptr
                           ? self
                           : std::string(info.dli_fname);
    uintptr_t offset =
        reinterpret_cast<uintptr_t>(pc) - 1 - reinterpret_cast<uintptr_t>(info.dli_fbase);
    loc.fallback = absl::StrFormat("%s+0x%x", Basename(path), offset);
    if (info.dli_sname != nullptr && info.dli_saddr != nullptr) {
      int status = 0;
      char* demangled = abi::__cxa_demangle(info.dli_sname, nullptr, nullptr, &status);
      loc.function = ShortFunction(demangled != nullptr ? demangled : info.dli_sname);
      std::free(demangled);
      loc.fallback = absl::StrFormat(
          "%s+0x%x", loc.function,
          reinterpret_cast<uintptr_t>(pc) - 1 - reinterpret_cast<uintptr_t>(info.dli_saddr));
    }
    Module& m = modules[path];
    m.path = path;
    m.pcs.emplace_back(pc, offset);
  }
  std::string symbolizer = FindSymbolizer();
  if (symbolizer.empty()) {
    result.note =
        "no llvm-symbolizer (Debian package llvm-14; `bash tools/setup.sh` installs it): "
        "locations are module+offset";
    return result;
  }
  SourceFiles sources;
  bool missing_lines = false;
  bool missing_text = false;
  for (auto& [path, module] : modules) {
    std::vector<std::string> argv = {symbolizer, "--output-style=JSON", "--inlines",
                                     absl::StrCat("--obj=", path)};
    for (const auto& [pc, offset] : module.pcs) argv.push_back(absl::StrFormat("0x%x", offset));
    std::string out;
    if (!RunCapture(argv, &out)) {
      result.note = absl::StrCat(symbolizer, " failed on ", path, ": locations are module+offset");
      continue;
    }
    nlohmann::json answers = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    if (!answers.is_array() || answers.size() != module.pcs.size()) {
      result.note = absl::StrCat(symbolizer, " gave an unexpected answer for ", path);
      continue;
    }
    // Addresses the line table gives line 0 (code the optimiser merged from several lines), by
    // index into module.pcs.
    std::vector<size_t> line_zero;
    for (size_t i = 0; i < module.pcs.size(); ++i) {
      SourceLocation& loc = result.locations[module.pcs[i].first];
      const nlohmann::json* f = ModelFrame(answers[i]);
      if (f == nullptr) continue;
      std::string function = ShortFunction(f->value("FunctionName", ""));
      if (function != "?") loc.function = function;
      loc.file = WorkspaceRelative(f->value("FileName", ""));
      loc.line = f->value("Line", 0);
      if (!loc.has_line()) {
        if (!loc.file.empty() && loc.file != "??") {
          line_zero.push_back(i);
        } else {
          missing_lines = true;
        }
        loc.file.clear();
        continue;
      }
      std::vector<const nlohmann::json*> model_frames = ModelFrames(answers[i]);
      for (size_t k = 1; k < model_frames.size(); ++k) {
        absl::StrAppend(&loc.inlined_into, k == 1 ? "" : " < ",
                        ShortFunction(model_frames[k]->value("FunctionName", "")));
      }
      loc.text = sources.Line(loc.file, loc.line);
      if (loc.text.empty()) missing_text = true;
    }
    // Line 0: the nearest instruction before it, in the same function, that has a line (the
    // line that reaches the merged code, as a profiler's annotation shows it).
    if (line_zero.empty()) continue;
    std::vector<std::string> before = {symbolizer, "--output-style=JSON", "--inlines",
                                       absl::StrCat("--obj=", path)};
    for (size_t i : line_zero) {
      for (uintptr_t k = 1; k <= kLineSearchBytes; ++k) {
        before.push_back(absl::StrFormat("0x%x", module.pcs[i].second - k));
      }
    }
    nlohmann::json earlier;
    out.clear();
    if (RunCapture(before, &out)) {
      earlier = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
    }
    if (!earlier.is_array() || earlier.size() != line_zero.size() * kLineSearchBytes) {
      missing_lines = true;
      continue;
    }
    for (size_t n = 0; n < line_zero.size(); ++n) {
      SourceLocation& loc = result.locations[module.pcs[line_zero[n]].first];
      for (size_t k = 0; k < kLineSearchBytes && !loc.has_line(); ++k) {
        const nlohmann::json* f = ModelFrame(earlier[n * kLineSearchBytes + k]);
        if (f == nullptr || ShortFunction(f->value("FunctionName", "")) != loc.function) break;
        if (f->value("Line", 0) <= 0) continue;
        loc.file = WorkspaceRelative(f->value("FileName", ""));
        loc.line = f->value("Line", 0);
        loc.text = sources.Line(loc.file, loc.line);
        if (loc.text.empty()) missing_text = true;
      }
      if (!loc.has_line()) missing_lines = true;
    }
  }
  if (result.note.empty() && missing_lines) {
    result.note =
        "some code has no line table (stripped, or built without -g1; see "
        ".bazelrc): those locations are function names only";
  } else if (result.note.empty() && missing_text) {
    result.note =
        "some source files were not found (set SWITCHYARD_SOURCE_ROOT to the workspace): those "
        "lines have no text";
  }
  return result;
}

namespace {

// The load address of the one module whose file is named `name`, or 0 (none, or several).
uintptr_t ModuleBase(const std::string& name) {
  struct Search {
    const std::string* name;
    uintptr_t base = 0;
    int found = 0;
  } search{&name};
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* search = static_cast<Search*>(data);
        if (info->dlpi_name != nullptr && Basename(info->dlpi_name) == *search->name) {
          search->base = info->dlpi_addr;
          search->found += 1;
        }
        return 0;
      },
      &search);
  return search.found == 1 ? search.base : 0;
}

// One `MODULE+0xOFFSET[ (SYMBOL)]` in a message.
struct CodeName {
  size_t begin = 0, end = 0;  // [begin, end) in the message
  const void* pc = nullptr;
};

}  // namespace

std::string LocateCode(const std::string& message) {
  std::vector<CodeName> names;
  size_t at = 0;
  while ((at = message.find("+0x", at)) != std::string::npos) {
    size_t begin = at;
    while (begin > 0 &&
           (std::isalnum(static_cast<unsigned char>(message[begin - 1])) ||
            message[begin - 1] == '.' || message[begin - 1] == '_' || message[begin - 1] == '-')) {
      --begin;
    }
    size_t end = at + 3;
    while (end < message.size() && std::isxdigit(static_cast<unsigned char>(message[end]))) ++end;
    const std::string module = message.substr(begin, at - begin);
    const std::string hex = message.substr(at + 3, end - at - 3);
    at = end;
    if (module.empty() || hex.empty() || !absl::StrContains(module, ".so")) continue;
    const uintptr_t base = ModuleBase(module);
    if (base == 0) continue;
    // dladdr's symbol, when DescribeCode added one: the line table names the function better.
    if (message.compare(end, 2, " (") == 0) {
      size_t close = message.find(')', end);
      if (close != std::string::npos && message.find_first_of(" (", end + 2) > close) {
        end = close + 1;
      }
    }
    // The simulator names a return address; Symbolize takes it as one.
    names.push_back(
        {begin, end,
         reinterpret_cast<const void*>(base + std::strtoull(hex.c_str(), nullptr, 16))});
  }
  if (names.empty()) return message;
  std::vector<const void*> pcs;
  for (const CodeName& n : names) pcs.push_back(n.pc);
  Symbolized symbolized = Symbolize(pcs);
  std::string located;
  size_t from = 0;
  for (const CodeName& n : names) {
    const SourceLocation& loc = symbolized.locations[n.pc];
    if (!loc.has_line()) continue;
    std::string file = loc.file;
    // A tree's file as the tree names it; the platform's (compiled from the cache) as such.
    for (const char* dir : {"/kernel/", "/platform/"}) {
      if (size_t k = file.rfind(dir); k != std::string::npos) {
        file = file.substr(k + 1);
        break;
      }
    }
    absl::StrAppend(&located, message.substr(from, n.begin - from), file, ":", loc.line,
                    loc.function == "?" ? "" : absl::StrCat(" in ", loc.function, "()"));
    from = n.end;
  }
  absl::StrAppend(&located, message.substr(from));
  return located;
}

}  // namespace switchyard::views
