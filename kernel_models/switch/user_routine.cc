#include "kernel_models/switch/user_routine.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace switchyard::switch_routine {

// harness_sources.cc (generated from harness/ by BUILD).
struct HarnessFile {
  const char* path;
  const unsigned char* bytes;
  size_t size;
};
extern const HarnessFile kHarnessFiles[];
extern const int kHarnessFileCount;

namespace {

struct Toolchain {
  const char* compiler;
  const char* objdump;
  const char* call;  // the harness's entry and checked call
  const char* text_address;
  const char* copts;
};

Toolchain ToolchainOf(Arch arch) {
  switch (arch) {
    case Arch::kX86_64:
      return {"gcc", "objdump", "call_x86_64.S", "0x10000", "-m64"};
    case Arch::kI386:
      return {"i686-linux-gnu-gcc", "i686-linux-gnu-objdump", "call_i386.S", "0x10000", ""};
    case Arch::kRiscv64:
      return {"riscv64-linux-gnu-gcc", "riscv64-linux-gnu-objdump", "call_riscv64.S", "0x80000000",
              "-march=rv64gc -mabi=lp64d -mcmodel=medany"};
  }
  return {};
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a shell command; its stdout and stderr together.
int Shell(const std::string& command, std::string* output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) output->append(buffer, n);
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct Built {
  std::string name;
  std::string bytes;
  std::string listing;
  emu::ElfImage image;
  Routine routine;
};

}  // namespace

std::string UserBuildCommand(const std::string& path, Arch arch, Convention convention,
                             const std::string& dir, const std::string& out) {
  Toolchain t = ToolchainOf(arch);
  std::string upper = ConventionName(convention);
  for (char& c : upper) c = static_cast<char>(toupper(c));
  return absl::StrCat(
      t.compiler,
      " -ffreestanding -nostdlib -static -fno-pic -fno-pie -no-pie "
      "-fno-asynchronous-unwind-tables -fno-stack-protector -Wl,--build-id=none -Wl,-N "
      "-Wl,--no-warn-rwx-segments -Wl,-z,noexecstack -Wl,-Ttext=",
      t.text_address, " -Wl,-e,_start -I", dir, " ", t.copts, " -O2 -DCONVENTION_", upper, " -o ",
      out, " ", dir, "/kernel_models/switch/harness/harness.c ", dir,
      "/kernel_models/switch/harness/", t.call, " ", Quote(path));
}

absl::StatusOr<const Routine*> BuildUserRoutine(const std::string& path, Arch arch,
                                                Convention convention) {
  static std::map<std::tuple<std::string, Arch, Convention>, const Routine*> cache;
  static std::deque<Built> built;
  auto key = std::make_tuple(path, arch, convention);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  const char* tmp = getenv("TMPDIR");
  std::string dir =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/switchyard-XXXXXX");
  if (mkdtemp(dir.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot make a directory ", dir));
  }
  for (int i = 0; i < kHarnessFileCount; ++i) {
    std::string file = absl::StrCat(dir, "/", kHarnessFiles[i].path);
    std::string parent = file.substr(0, file.rfind('/'));
    std::string ignored;
    Shell(absl::StrCat("mkdir -p ", Quote(parent)), &ignored);
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(kHarnessFiles[i].bytes),
               static_cast<std::streamsize>(kHarnessFiles[i].size));
  }
  std::string elf = dir + "/routine.elf";
  std::string output;
  int status = Shell(UserBuildCommand(path, arch, convention, dir, elf), &output);
  if (status != 0) {
    std::string ignored;
    Shell(absl::StrCat("rm -rf ", Quote(dir)), &ignored);
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot build ", path, " for ", ArchName(arch), " with the ", ConventionName(convention),
        " convention (", ToolchainOf(arch).compiler, " exit ", status, "):\n", output));
  }
  Built& b = built.emplace_back();
  std::ifstream in(elf, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  b.bytes = bytes.str();
  std::string listing;
  Shell(absl::StrCat(ToolchainOf(arch).objdump, " -d --no-show-raw-insn ", Quote(elf)), &listing);
  for (absl::string_view line : absl::StrSplit(listing, '\n')) {
    size_t colon = line.find(':');
    if (line.empty() || line[0] != ' ' || colon == absl::string_view::npos) continue;
    absl::StrAppend(&b.listing, line, "\n");
  }
  std::string ignored;
  Shell(absl::StrCat("rm -rf ", Quote(dir)), &ignored);
  b.name = absl::StrCat(path.substr(path.rfind('/') + 1), " (", ArchName(arch), ", ",
                        ConventionName(convention), ")");
  b.image = {b.name.c_str(), reinterpret_cast<const unsigned char*>(b.bytes.data()), b.bytes.size(),
             b.listing.c_str()};
  const char* symbol = convention == Convention::kSwap       ? "sy_swap"
                       : convention == Convention::kFcontext ? "jump_fcontext"
                                                             : "swapcontext";
  b.routine = {b.name.c_str(), path.c_str(), arch, convention, &b.image, symbol};
  b.routine.source = b.name.c_str();
  cache[key] = &b.routine;
  return &b.routine;
}

}  // namespace switchyard::switch_routine
