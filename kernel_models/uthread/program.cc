#include "kernel_models/uthread/program.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "arch/emu/elf_image.h"

namespace switchyard::uthread {

// ulib_sources.cc (generated from ulib/ by BUILD).
struct UlibFile {
  const char* path;  // relative to ulib/
  const unsigned char* bytes;
  size_t size;
};
extern const UlibFile kUlibFiles[];
extern const int kUlibFileCount;

namespace {

struct Toolchain {
  const char* compiler;
  const char* objdump;
  const char* flags;
};

// xv6's user CFLAGS (its Makefile), without -Werror: this is not a grader.
Toolchain ToolchainOf(Arch arch) {
  if (arch == Arch::kI386) {
    return {"i686-linux-gnu-gcc", "i686-linux-gnu-objdump",
            "-Wall -O -fno-omit-frame-pointer -ggdb -gdwarf-2 -ffreestanding -fno-common -nostdlib "
            "-fno-stack-protector -fno-pie -no-pie -fno-asynchronous-unwind-tables"};
  }
  return {"riscv64-linux-gnu-gcc", "riscv64-linux-gnu-objdump",
          "-Wall -O -fno-omit-frame-pointer -ggdb -gdwarf-2 -march=rv64gc -mabi=lp64d "
          "-mcmodel=medany -mno-relax -ffreestanding -fno-common -nostdlib -fno-stack-protector "
          "-fno-pie -no-pie -fno-asynchronous-unwind-tables"};
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Each command's time limit: the compiler reads what the program's #include names, and
// `#include "/dev/zero"` or "/dev/stdin" would otherwise never end (nor would switchyard).
constexpr int kCommandSecondsMax = 60;
constexpr int kTimedOut = 124;  // timeout(1)'s exit status

int Shell(const std::string& command, std::string* output) {
  FILE* pipe = popen(
      absl::StrCat("timeout ", kCommandSecondsMax, " ", command, " </dev/null 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  if (WIFEXITED(status) && WEXITSTATUS(status) == kTimedOut) {
    absl::StrAppend(output, "(switchyard stopped it after ", kCommandSecondsMax,
                    " s: does an #include name a device or a file without end?)\n");
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool IsFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// The sorted names in `dir` ending in one of `suffixes`.
std::vector<std::string> FilesIn(const std::string& dir,
                                 std::initializer_list<const char*> suffixes) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    for (const char* suffix : suffixes) {
      if (absl::EndsWith(name, suffix) && IsFile(dir + "/" + name)) out.push_back(dir + "/" + name);
    }
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// The global labels of an assembly file, in order.
std::vector<std::string> GlobalLabels(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t,"), absl::SkipEmpty());
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      if (words[i] == ".globl" || words[i] == ".global") out.push_back(words[i + 1]);
    }
  }
  return out;
}

// The program's files in `dir`: the lab's two in an xv6 tree, else the .c and .S files.
void SourceFiles(const std::string& dir, std::vector<std::string>* c_files,
                 std::vector<std::string>* s_files) {
  if (IsFile(dir + "/user/uthread.c") && IsFile(dir + "/user/uthread_switch.S")) {
    *c_files = {dir + "/user/uthread.c"};
    *s_files = {dir + "/user/uthread_switch.S"};
  } else {
    *c_files = FilesIn(dir, {".c"});
    *s_files = FilesIn(dir, {".S", ".s"});
  }
}

uint64_t Fnv(uint64_t hash, const std::string& bytes) {
  for (unsigned char c : bytes) hash = (hash ^ c) * 0x100000001b3ull;
  return (hash ^ 0xff) * 0x100000001b3ull;  // a separator: ("ab", "c") differs from ("a", "bc")
}

struct Built {
  std::string bytes;
  std::string listing;
  std::string name;
  emu::ElfImage image;
  Program program;
};

class TempDir {
 public:
  TempDir() {
    const char* tmp = getenv("TMPDIR");
    path_ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/switchyard-XXXXXX");
    if (mkdtemp(path_.data()) == nullptr) path_.clear();
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::string ignored;
    Shell("rm -rf " + Quote(path_), &ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

absl::StatusOr<const Program*> BuildProgram(const std::string& dir_in, Arch arch) {
  static std::map<std::pair<std::string, Arch>, const Program*> cache;
  static std::deque<Built> built;
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto key = std::make_pair(dir, arch);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir,
        " is a file, not a directory: give the directory that holds the program's .c and .S "
        "files (or the xv6 tree)"));
  }
  std::vector<std::string> c_files, s_files;
  std::vector<std::string> includes = {dir};
  SourceFiles(dir, &c_files, &s_files);
  if (IsFile(dir + "/user/uthread.c") && s_files.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir,
                     " has user/uthread.c but no user/uthread_switch.S (the lab's switch "
                     "routine, beside it)"));
  }
  if (!c_files.empty() && s_files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, " has ", absl::StrJoin(c_files, ", "),
        " but no .S switch routine (user/uthread_switch.S in an xv6 tree, or a .S file beside "
        "the .c files)"));
  }
  if (c_files.empty() || s_files.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir,
        " is not a threads program: it has neither user/uthread.c and user/uthread_switch.S "
        "(an xv6 tree with the Multithreading lab) nor .c files and a .S switch routine"));
  }
  // The switch routine: the .S files' global function, by the names threads labs use first.
  std::vector<std::string> globals;
  for (const std::string& s : s_files) {
    for (const std::string& g : GlobalLabels(s)) globals.push_back(g);
  }
  std::string switch_symbol;
  for (const char* name : {"thread_switch", "switch_context", "swtch", "context_switch"}) {
    if (switch_symbol.empty() && std::find(globals.begin(), globals.end(), name) != globals.end()) {
      switch_symbol = name;
    }
  }
  if (switch_symbol.empty() && globals.size() == 1) switch_symbol = globals[0];
  if (switch_symbol.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot tell which function of ", absl::StrJoin(s_files, ", "),
        " is the switch routine: declare it .globl and name it thread_switch (globals found: ",
        globals.empty() ? "none" : absl::StrJoin(globals, ", "), ")"));
  }

  TempDir tmp;
  if (tmp.path().empty()) return absl::InternalError("cannot make a directory under $TMPDIR");
  std::string ignored;
  for (int i = 0; i < kUlibFileCount; ++i) {
    std::string file = absl::StrCat(tmp.path(), "/", kUlibFiles[i].path);
    Shell("mkdir -p " + Quote(file.substr(0, file.rfind('/'))), &ignored);
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(kUlibFiles[i].bytes),
               static_cast<std::streamsize>(kUlibFiles[i].size));
  }
  Toolchain t = ToolchainOf(arch);
  std::string compile = absl::StrCat(t.compiler, " ", t.flags);
  for (const std::string& include : includes) absl::StrAppend(&compile, " -I", Quote(include));
  absl::StrAppend(&compile, " -I", Quote(tmp.path() + "/include"), " -I", Quote(tmp.path()));
  std::vector<std::string> objects;
  bool probed = false;
  for (size_t i = 0; i < c_files.size(); ++i) {
    // The program's file through a wrapper that appends the probe; without it if the probe
    // does not compile (a program without the lab's bookkeeping).
    std::string object = absl::StrCat(tmp.path(), "/c", i, ".o");
    // The wrapper names the file by its base name, found through -iquote its directory: an
    // #include's path cannot hold a '"', and a directory's name may (the compiler still names the
    // file by its full path).
    size_t slash = c_files[i].rfind('/');
    std::string wrapper = absl::StrCat(tmp.path(), "/wrap/c", i, ".c");
    Shell("mkdir -p " + Quote(tmp.path() + "/wrap"), &ignored);
    std::string output;
    std::ofstream(wrapper) << "#include \"" << c_files[i].substr(slash + 1)
                           << "\"\n#include \"uthread_probe.h\"\n";
    int status = Shell(absl::StrCat(compile, " -iquote ", Quote(c_files[i].substr(0, slash)),
                                    " -c -o ", Quote(object), " ", Quote(wrapper)),
                       &output);
    if (status == 0) {
      std::string symbols;
      Shell(absl::StrCat(t.compiler == std::string("i686-linux-gnu-gcc") ? "i686-linux-gnu-nm"
                                                                         : "riscv64-linux-gnu-nm",
                         " ", Quote(object)),
            &symbols);
      probed = probed || absl::StrContains(symbols, "sy_probe_threads");
    } else {
      // Once more without the probe, unless the time limit stopped it (it would again).
      if (status != kTimedOut) {
        output.clear();
        status =
            Shell(absl::StrCat(compile, " -c -o ", Quote(object), " ", Quote(c_files[i])), &output);
      }
      if (status != 0) {
        return absl::InvalidArgumentError(absl::StrCat(c_files[i], " does not compile for ",
                                                       ArchName(arch), " (", t.compiler, "):\n",
                                                       output));
      }
    }
    objects.push_back(object);
  }
  for (size_t i = 0; i < s_files.size(); ++i) {
    std::string object = absl::StrCat(tmp.path(), "/s", i, ".o");
    std::string output;
    if (Shell(absl::StrCat(compile, " -c -o ", Quote(object), " ", Quote(s_files[i])), &output) !=
        0) {
      // Written for the other architecture? Then say which --arch it wants.
      Arch other = arch == Arch::kI386 ? Arch::kRiscv64 : Arch::kI386;
      Toolchain o = ToolchainOf(other);
      std::string hint;
      if (Shell(absl::StrCat(o.compiler, " ", o.flags, " -c -o ", Quote(object), " ",
                             Quote(s_files[i])),
                &ignored) == 0) {
        hint = absl::StrCat(", but does for ", ArchName(other), ": give --arch=", ArchName(other));
      }
      return absl::InvalidArgumentError(absl::StrCat(s_files[i], " does not assemble for ",
                                                     ArchName(arch), " (", t.compiler, ")", hint,
                                                     ":\n", output));
    }
    objects.push_back(object);
  }
  {
    std::string object = tmp.path() + "/ulib.o";
    std::string output;
    if (Shell(absl::StrCat(compile, " -c -o ", Quote(object), " ", Quote(tmp.path() + "/ulib.c")),
              &output) != 0) {
      return absl::InternalError("switchyard's user library does not compile:\n" + output);
    }
    objects.push_back(object);
  }
  std::string elf = tmp.path() + "/program.elf";
  std::string output;
  std::string link = absl::StrCat(
      t.compiler, " ", t.flags,
      " -static -Wl,--build-id=none -Wl,-N -Wl,--no-warn-rwx-segments -Wl,-z,noexecstack "
      "-Wl,-Ttext=0x10000 -Wl,-e,_start -o ",
      Quote(elf));
  for (const std::string& o : objects) absl::StrAppend(&link, " ", Quote(o));
  absl::StrAppend(&link, " -lgcc");
  if (Shell(link, &output) != 0) {
    std::set<std::string> missing;
    for (absl::string_view line : absl::StrSplit(output, '\n')) {
      size_t at = line.find("undefined reference to `");
      if (at == absl::string_view::npos) continue;
      absl::string_view name = line.substr(at + 24);
      missing.insert(std::string(name.substr(0, name.find('\''))));
    }
    if (missing.count("main") != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, ": the program has no main() (its .c files: ", absl::StrJoin(c_files, ", "), ")"));
    }
    if (!missing.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          dir, ": the program calls ", absl::StrJoin(missing, "(), "),
          "(), which switchyard's stand-in for xv6's user library does not provide (a threads "
          "program runs alone: no fork, exec, pipe or files)"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": the program does not link (", t.compiler, "):\n", output));
  }
  Built& b = built.emplace_back();
  std::ifstream in(elf, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  b.bytes = bytes.str();
  std::string listing;
  Shell(absl::StrCat(t.objdump, " -d -l --no-show-raw-insn ", Quote(elf)), &listing);
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    if (line.empty()) continue;
    size_t colon = line.rfind(':');
    if (line[0] == ' ' && line.find(':') != absl::string_view::npos) {
      absl::StrAppend(&b.listing, line, "\n");
    } else if (line[0] != ' ' && colon != absl::string_view::npos && colon + 1 < line.size() &&
               absl::ascii_isdigit(static_cast<unsigned char>(line[colon + 1]))) {
      // "/home/me/xv6/user/uthread.c:57" (objdump -l), perhaps with " (discriminator 1)".
      absl::string_view where = line.substr(0, line.find(' '));
      size_t slash = where.rfind('/', where.rfind(':'));
      absl::string_view shown = where;
      if (absl::StartsWith(where, dir + "/"))
        shown = where.substr(dir.size() + 1);
      else if (slash != absl::string_view::npos)
        shown = where.substr(slash + 1);
      absl::StrAppend(&b.listing, shown, "\n");
    }
  }
  b.name = dir;
  b.image = {b.name.c_str(), reinterpret_cast<const unsigned char*>(b.bytes.data()), b.bytes.size(),
             b.listing.c_str()};
  emu::Elf parsed(b.image);
  b.program.name = dir;
  b.program.source_root = dir;
  b.program.arch = arch;
  b.program.image = &b.image;
  b.program.switch_symbol = switch_symbol;
  if (std::string why = ImageDoesNotFit(parsed); !why.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": ", why));
  }
  if (!parsed.Find(switch_symbol)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": the program has no function ", switch_symbol));
  }
  for (const char* name : {"thread_yield", "release", "yield"}) {
    if (b.program.yield_symbol.empty() && parsed.FindSymbol(name) != nullptr &&
        parsed.FindSymbol(name)->is_function) {
      b.program.yield_symbol = name;
    }
  }
  bool lab = probed && parsed.Find("all_thread") && parsed.Find("current_thread");
  if (!lab) {
    b.program.skipped =
        "the program has no 6.1810-lab bookkeeping (all_thread[MAX_THREAD] with a state of "
        "FREE, RUNNING or RUNNABLE, and current_thread): current-thread-runs, "
        "finished-thread-resumed, yield-lets-others-run and scheduler-ends-when-none-runnable "
        "are skipped";
  }
  cache[key] = &b.program;
  return &b.program;
}

std::string ProgramSourcesFingerprint(const std::string& dir_in) {
  std::string dir = dir_in;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  std::vector<std::string> c_files, s_files;
  SourceFiles(dir, &c_files, &s_files);
  if (c_files.empty() || s_files.empty()) return "";
  std::set<std::string> files(c_files.begin(), c_files.end());
  files.insert(s_files.begin(), s_files.end());
  for (const std::string& c : c_files) {
    for (const std::string& h : FilesIn(c.substr(0, c.rfind('/')), {".h"})) files.insert(h);
  }
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    hash = Fnv(Fnv(hash, file.substr(dir.size())), text.str());
  }
  return absl::StrFormat("%016x", hash);
}

}  // namespace switchyard::uthread
