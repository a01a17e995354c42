#include "kernel_models/uthread/uthread.h"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/emu/machine.h"
#include "base/check.h"
#include "kernel_models/uthread/ulib/hypercall.h"
#include "sim/trace.h"

namespace switchyard::uthread {
namespace {

// The program's memory: one region, the image at its bottom, the heap (sbrk) above the image,
// the initial thread's stack at the top.
constexpr uint64_t kMemoryBase = 0x10000;
constexpr uint64_t kMemorySize = 0x100000;
constexpr uint64_t kStackTop = kMemoryBase + kMemorySize - 0x100;
constexpr uint64_t kStackBytes = 0x10000;
// The bytes past a save area's start that count as the saved context when the switch writes
// them while switching out (the lab's struct context is 112 bytes).
constexpr uint64_t kAreaWindow = 512;
constexpr size_t kMaxOutput = 1 << 20;
// The alarm's tick, and how many periods a due timer may wait for a handler's sigreturn.
constexpr uint64_t kInstructionsPerTick = 1000;
constexpr int kStallPeriods = 20;

thread_local uint64_t last_run_instructions = 0;
thread_local uint64_t last_run_switches = 0;
thread_local ReferenceResult last_run_reference = ReferenceResult::kNotRun;
thread_local uint64_t last_run_alarms = 0;

struct Reg {
  const char* name;
  int id;
};

// What the model needs to know of an architecture's calling convention.
struct Abi {
  emu::Isa isa;
  uint64_t word;
  int sp;
  std::vector<Reg> callee_saved;     // without sp
  std::vector<Reg> fp_callee_saved;  // checked when the program's code uses them
  Reg args[3];                       // hypercall arguments
  int result;
  int return_address;     // -1: on the stack
  uint64_t entry_offset;  // at a function's entry, (sp + entry_offset) % 16 == 0
  const char* alignment_rule;
  std::vector<Reg> dump;
};

const Abi& AbiOf(Arch arch) {
  static const Abi riscv64 = {
      emu::Isa::kRiscv64,
      8,
      UC_RISCV_REG_SP,
      {{"s0", UC_RISCV_REG_S0},
       {"s1", UC_RISCV_REG_S1},
       {"s2", UC_RISCV_REG_S2},
       {"s3", UC_RISCV_REG_S3},
       {"s4", UC_RISCV_REG_S4},
       {"s5", UC_RISCV_REG_S5},
       {"s6", UC_RISCV_REG_S6},
       {"s7", UC_RISCV_REG_S7},
       {"s8", UC_RISCV_REG_S8},
       {"s9", UC_RISCV_REG_S9},
       {"s10", UC_RISCV_REG_S10},
       {"s11", UC_RISCV_REG_S11}},
      {{"fs0", UC_RISCV_REG_FS0},
       {"fs1", UC_RISCV_REG_FS1},
       {"fs2", UC_RISCV_REG_FS2},
       {"fs3", UC_RISCV_REG_FS3},
       {"fs4", UC_RISCV_REG_FS4},
       {"fs5", UC_RISCV_REG_FS5},
       {"fs6", UC_RISCV_REG_FS6},
       {"fs7", UC_RISCV_REG_FS7},
       {"fs8", UC_RISCV_REG_FS8},
       {"fs9", UC_RISCV_REG_FS9},
       {"fs10", UC_RISCV_REG_FS10},
       {"fs11", UC_RISCV_REG_FS11}},
      {{"a0", UC_RISCV_REG_A0}, {"a1", UC_RISCV_REG_A1}, {"a2", UC_RISCV_REG_A2}},
      UC_RISCV_REG_A0,
      UC_RISCV_REG_RA,
      0,
      "sp % 16 == 0",
      {{"ra", UC_RISCV_REG_RA},
       {"sp", UC_RISCV_REG_SP},
       {"s0", UC_RISCV_REG_S0},
       {"s1", UC_RISCV_REG_S1},
       {"a0", UC_RISCV_REG_A0},
       {"a1", UC_RISCV_REG_A1},
       {"pc", UC_RISCV_REG_PC}},
  };
  static const Abi i386 = {
      emu::Isa::kI386,
      4,
      UC_X86_REG_ESP,
      {{"ebx", UC_X86_REG_EBX},
       {"esi", UC_X86_REG_ESI},
       {"edi", UC_X86_REG_EDI},
       {"ebp", UC_X86_REG_EBP}},
      {},
      {{"ebx", UC_X86_REG_EBX}, {"ecx", UC_X86_REG_ECX}, {"edx", UC_X86_REG_EDX}},
      UC_X86_REG_EAX,
      -1,
      4,
      "(esp + 4) % 16 == 0",
      {{"eax", UC_X86_REG_EAX},
       {"ebx", UC_X86_REG_EBX},
       {"ecx", UC_X86_REG_ECX},
       {"edx", UC_X86_REG_EDX},
       {"esi", UC_X86_REG_ESI},
       {"edi", UC_X86_REG_EDI},
       {"ebp", UC_X86_REG_EBP},
       {"esp", UC_X86_REG_ESP},
       {"eip", UC_X86_REG_EIP}},
  };
  return arch == Arch::kI386 ? i386 : riscv64;
}

// What the host knows of one thread of the program.
struct Thread {
  std::string function;  // where it started: "main", "thread_a"
  uint64_t area = 0;     // its save area (0: not yet switched out)
  uint64_t top = 0;      // its stack's top: the stack pointer it started with
  bool suspended = false;
  // While suspended: where its switch returns, the stack pointer it returns with, the values
  // the model gave its callee-saved registers, and the values they had (restored on resume).
  uint64_t resume_pc = 0, resume_sp = 0;
  std::vector<uint64_t> expected, real;
  uint64_t protect_low = 0;              // [protect_low, top) is its stack in use
  uint64_t area_low = 0, area_high = 0;  // the bytes its switch wrote into its save area
  int switches_out = 0;
  // The lab's bookkeeping: it marked itself FREE (at finished_at).
  bool finished = false;
  uint64_t finished_at = 0;
  // Extra yields the model still owes it, and the program's own return address for them.
  uint32_t again_left = 0;
  uint64_t again_return = 0;
  // A yield in flight: where it returns, with which stack pointer, the number of switches when
  // it started and which other lab slots were RUNNABLE then.
  bool yielding = false;
  uint64_t yield_pc = 0, yield_sp = 0;
  uint64_t yield_switches = 0;
  std::vector<int> runnable_then;
};

// The lab's bookkeeping, from the probe (ulib/uthread_probe.h) and the symbols.
struct Lab {
  bool present = false;
  uint64_t all_thread = 0, current_thread = 0;
  uint64_t threads = 0, thread_bytes = 0, state_offset = 0, state_bytes = 0;
  int64_t free = 0, running = 0, runnable = 0;
};

// Machines kept per thread and program: a run restores one (Machine::Restore) instead of
// making a new one, so Unicorn translates the program once per process. Two per program at
// most are in use at once (a run and its reference execution).
class MachinePool {
 public:
  emu::Machine& Acquire(const emu::ElfImage* image, emu::Isa isa) {
    for (Entry& e : entries_) {
      if (e.image == image && !e.in_use) {
        e.in_use = true;
        e.machine->Restore();
        return *e.machine;
      }
    }
    Entry& e = entries_.emplace_back();
    e.image = image;
    e.in_use = true;
    e.machine = std::make_unique<emu::Machine>(isa, emu::Elf(*image), kMemoryBase, kMemorySize);
    e.machine->Snapshot();
    return *e.machine;
  }
  void Release(emu::Machine& machine) {
    for (Entry& e : entries_) {
      if (e.machine.get() == &machine) e.in_use = false;
    }
  }

 private:
  struct Entry {
    const emu::ElfImage* image = nullptr;
    bool in_use = false;
    std::unique_ptr<emu::Machine> machine;
  };
  std::deque<Entry> entries_;
};
thread_local MachinePool machine_pool;

enum class Event { kNone, kSwitchEntry, kSwitchDone, kYieldEntry, kAgain, kYieldReturn };

// One execution of the program. With a simulator it is the model (every check on, decisions
// from the decider, recorded in `decisions`); without one it is the reference execution: the
// host performs every switch to a saved thread itself and replays `decisions`.
class Execution : public sim::Machine {
 public:
  Execution(const Config& config, sim::Simulator* sim, std::vector<uint32_t>* decisions)
      : config_(config),
        abi_(AbiOf(config.program->arch)),
        sim_(sim),
        decisions_(decisions),
        cpu_(machine_pool.Acquire(config.program->image, abi_.isa)),
        elf_(cpu_.elf()) {
    switch_begin_ = Symbol(config.program->switch_symbol);
    switch_end_ = NextSymbolAfter(switch_begin_);
    if (!config.program->yield_symbol.empty()) yield_ = Symbol(config.program->yield_symbol);
    again_ = Symbol("sy_again");
    uint64_t end = std::max(SymbolOr("_end", 0), SymbolOr("end", 0));
    brk_ = (end + 4095) & ~uint64_t{4095};
    ReadLab();
    CheckFloatingPoint();
    Thread main;
    main.function = "main";
    main.top = kStackTop;
    threads_.push_back(main);
    if (abi_.isa == emu::Isa::kI386) {
      // _start is entered as if called: a zero return address below a 16-byte aligned top.
      cpu_.SetReg(abi_.sp, kStackTop - 4);
      cpu_.Write32(kStackTop - 4, 0);
      threads_[0].top = kStackTop;
    } else {
      cpu_.SetReg(abi_.sp, kStackTop);
      // The floating-point unit on (mstatus.FS = initial), as xv6 runs user code.
      cpu_.SetReg(UC_RISCV_REG_MSTATUS, cpu_.Reg(UC_RISCV_REG_MSTATUS) | (1ull << 13));
    }
    cpu_.set_pc(Symbol("_start"));
    cpu_.SetStepHook([this](uint64_t pc) { OnStep(pc); });
    cpu_.AddMemoryHook(kMemoryBase, kMemoryBase + kMemorySize, true,
                       [this](uint64_t a, int size, bool store) { OnAccess(a, size, store); });
    if (sim_ != nullptr) {
      yield_stream_ = sim_->decider().Stream("uthread.yield");
      timer_stream_ = sim_->decider().Stream("uthread.timer");
      // One fiber per thread of the program, so that the views show the threads side by side;
      // the emulation loop runs on the fiber of the thread that runs.
      on_ = sim_->CreateFiber("main", &Execution::Main, this);
      fibers_.push_back(on_);
      sim_->SetBootFiber(0, on_);
      sim_->SetMachine(this);
      sim::SetEmulatedCode(Describer(cpu_, config.program->source_root));
    }
  }

  ~Execution() override { machine_pool.Release(cpu_); }
  Execution(const Execution&) = delete;
  Execution& operator=(const Execution&) = delete;

  void Trap(int, int) override {}
  std::string DescribeStuck() override {
    return absl::StrCat("the emulated CPU is at ", At(cpu_.pc()));
  }

  // The reference execution: runs to the end; returns false if it did not end normally.
  bool RunReference() {
    Loop();
    return ended_;
  }
  const std::string& output() const { return output_; }
  int64_t status() const { return status_; }
  const std::string& failure() const { return violation_; }

 private:
  static void Main(void* self) { static_cast<Execution*>(self)->Loop(); }

  uint64_t Symbol(const std::string& name) const {
    std::optional<uint64_t> address = elf_.Find(name);
    SY_CHECK(address.has_value());
    return *address;
  }
  uint64_t SymbolOr(const std::string& name, uint64_t otherwise) const {
    return elf_.Find(name).value_or(otherwise);
  }
  uint64_t NextSymbolAfter(uint64_t address) const {
    uint64_t next = ~uint64_t{0};
    for (const emu::Symbol& s : elf_.symbols()) {
      if (s.address > address && s.address < next) next = s.address;
    }
    return next;
  }
  uint64_t Word(uint64_t address) const {
    if (!cpu_.Mapped(address, abi_.word)) return 0;
    return abi_.word == 4 ? cpu_.Read32(address) : cpu_.Read64(address);
  }
  void SetWord(uint64_t address, uint64_t value) {
    if (abi_.word == 4) {
      cpu_.Write32(address, static_cast<uint32_t>(value));
    } else {
      cpu_.Write64(address, value);
    }
  }
  uint64_t R(int reg) const { return cpu_.Reg(reg); }
  uint64_t Sp() const { return R(abi_.sp); }
  // The switch's or yield's argument i and return address, at its first instruction.
  uint64_t Arg(int i) const {
    if (abi_.isa == emu::Isa::kI386) return Word(Sp() + 4 * static_cast<uint64_t>(i + 1));
    return R(i == 0 ? UC_RISCV_REG_A0 : UC_RISCV_REG_A1);
  }
  uint64_t ReturnAddress() const {
    return abi_.return_address >= 0 ? R(abi_.return_address) : Word(Sp());
  }
  void SetReturnAddress(uint64_t value) {
    if (abi_.return_address >= 0) {
      cpu_.SetReg(abi_.return_address, value);
    } else {
      SetWord(Sp(), value);
    }
  }
  // The stack pointer a call made at `sp` (at its first instruction) returns with.
  uint64_t ReturnSp(uint64_t sp) const { return abi_.return_address >= 0 ? sp : sp + 4; }

  void ReadLab() {
    std::optional<uint64_t> threads = elf_.Find("sy_probe_threads");
    std::optional<uint64_t> all = elf_.Find("all_thread");
    std::optional<uint64_t> current = elf_.Find("current_thread");
    if (!threads || !all || !current) return;
    lab_.present = true;
    lab_.all_thread = *all;
    lab_.current_thread = *current;
    lab_.threads = Word(*threads);
    lab_.thread_bytes = Word(Symbol("sy_probe_thread_bytes"));
    lab_.state_offset = Word(Symbol("sy_probe_state_offset"));
    lab_.state_bytes = Word(Symbol("sy_probe_state_bytes"));
    auto signed_word = [this](const char* name) {
      uint64_t v = Word(Symbol(name));
      return abi_.word == 4 ? static_cast<int64_t>(static_cast<int32_t>(v))
                            : static_cast<int64_t>(v);
    };
    lab_.free = signed_word("sy_probe_free");
    lab_.running = signed_word("sy_probe_running");
    lab_.runnable = signed_word("sy_probe_runnable");
    if (lab_.threads == 0 || lab_.threads > 64 || lab_.thread_bytes == 0 ||
        (lab_.state_bytes != 4 && lab_.state_bytes != 8 && lab_.state_bytes != 1 &&
         lab_.state_bytes != 2)) {
      lab_.present = false;
    }
  }

  // fs0-fs11 are checked only when the program's own code (outside the switch) names one of
  // them: a program without floating point never has a live value there.
  void CheckFloatingPoint() {
    checked_ = abi_.callee_saved;
    if (abi_.fp_callee_saved.empty()) return;
    const char* listing = elf_.listing();
    for (const char* p = listing; (p = std::strstr(p, "fs")) != nullptr; ++p) {
      bool starts = p == listing || !std::isalnum(static_cast<unsigned char>(p[-1]));
      if (!starts || !std::isdigit(static_cast<unsigned char>(p[2]))) continue;
      // The instruction's address starts its line.
      const char* line = p;
      while (line > listing && line[-1] != '\n') --line;
      uint64_t address = std::strtoull(line, nullptr, 16);
      if (address >= switch_begin_ && address < switch_end_) continue;
      checked_.insert(checked_.end(), abi_.fp_callee_saved.begin(), abi_.fp_callee_saved.end());
      return;
    }
  }

  int64_t LabState(int slot) const {
    uint64_t address =
        lab_.all_thread + lab_.thread_bytes * static_cast<uint64_t>(slot) + lab_.state_offset;
    uint64_t v = 0;
    cpu_.ReadBytes(address, &v, lab_.state_bytes);
    int shift = static_cast<int>(64 - 8 * lab_.state_bytes);
    return static_cast<int64_t>(v << shift) >> shift;
  }
  // The lab slot whose struct holds `address`, or -1.
  int SlotOf(uint64_t address) const {
    if (!lab_.present || address < lab_.all_thread) return -1;
    uint64_t slot = (address - lab_.all_thread) / lab_.thread_bytes;
    return slot < lab_.threads ? static_cast<int>(slot) : -1;
  }
  std::string StateName(int64_t state) const {
    if (state == lab_.free) return "FREE";
    if (state == lab_.running) return "RUNNING";
    if (state == lab_.runnable) return "RUNNABLE";
    return absl::StrCat(state);
  }

  // "thread 1 (thread_a)"
  std::string Name(int t) const {
    return absl::StrFormat("thread %d (%s)", t, threads_[static_cast<size_t>(t)].function);
  }
  // "thread_schedule+40 (uthread.c:67: sd s3,40(a0))"
  std::string At(uint64_t pc) const {
    std::string line = cpu_.SourceLine(pc);
    return absl::StrCat(cpu_.Where(pc), " (", line.empty() ? "" : line + ": ", cpu_.Disassemble(pc),
                        ")");
  }
  std::string RegisterDump() const {
    std::string out;
    for (const Reg& r : abi_.dump) {
      absl::StrAppendFormat(&out, "%s%s=%#x", out.empty() ? "" : " ", r.name, R(r.id));
    }
    return out;
  }
  // "thread 2 (thread_b)'s saved context +0x10" or "thread 0 (main)'s stack (top - 0x40)".
  std::string DescribeAddress(uint64_t address) const {
    for (size_t t = 0; t < threads_.size(); ++t) {
      const Thread& th = threads_[t];
      if (th.area != 0 && address >= th.area && address < th.area + kAreaWindow &&
          th.area_high > th.area_low) {
        return absl::StrFormat("%s's saved context +%#x", Name(static_cast<int>(t)),
                               address - th.area);
      }
      if (address < th.top && address + 0x4000 >= th.top) {
        return absl::StrFormat("%s's stack (top - %#x)", Name(static_cast<int>(t)),
                               th.top - address);
      }
    }
    for (const emu::Symbol& s : elf_.symbols()) {
      if (!s.is_function && address >= s.address && address < s.address + s.size) {
        return absl::StrFormat("%s+%#x", s.name, address - s.address);
      }
    }
    return cpu_.Where(address);
  }

  // The host's values for thread t's callee-saved register `reg` at its switch n: distinct per
  // thread, switch and register, and recognisable in a report.
  uint64_t Marker(size_t reg, int t, int n) const {
    if (abi_.word == 4) {
      return (0x51ull + reg) << 24 | static_cast<uint64_t>(t + 1) << 16 |
             (static_cast<uint64_t>(n) & 0xffff);
    }
    return (0x5100ull + reg) << 48 | static_cast<uint64_t>(t + 1) << 40 |
           (static_cast<uint64_t>(n) & 0xffffffffffull);
  }
  std::string DescribeMarker(uint64_t value) const {
    for (size_t t = 0; t < threads_.size(); ++t) {
      for (size_t r = 0; r < checked_.size(); ++r) {
        for (int n = 0; n <= threads_[t].switches_out; ++n) {
          if (Marker(r, static_cast<int>(t), n) == value) {
            return absl::StrFormat(" (%s's %s at its switch %d)", Name(static_cast<int>(t)),
                                   checked_[r].name, n);
          }
        }
      }
    }
    return "";
  }

  void Violation(const char* invariant, std::string message) {
    if (!violation_.empty()) return;
    violated_ = invariant;
    violation_ = std::move(message);
    cpu_.Stop();
  }

  void Loop() {
    for (;;) {
      if (cpu_.instructions() >= config_.budget) {
        std::string message =
            absl::StrCat("the program did not end in ", config_.budget, " instructions (",
                         switches_, " switches done); ", Name(current_), " is at ", At(cpu_.pc()));
        if (sim_ == nullptr) {
          violation_ = message;
          return;
        }
        sim_->FailLiveness("thread-progress", std::move(message));
      }
      event_ = Event::kNone;
      uint64_t until = config_.budget;
      if (alarm_.armed && !alarm_.in_handler) {
        if (cpu_.instructions() >= alarm_.next) {
          Deliver();
          if (sim_ != nullptr) sim_->PointAt(sim::EmulatedPc(cpu_.pc()));
          continue;
        }
        until = std::min(until, alarm_.next);
      } else if (alarm_.armed && alarm_.in_handler) {
        CheckTimerDelivered();
        until = std::min(until, alarm_.stalled_after);
      }
      emu::StopReason why = cpu_.Run(std::max<uint64_t>(1, until - cpu_.instructions()));
      last_run_instructions = cpu_.instructions();
      last_run_switches = switches_;
      if (why == emu::StopReason::kFault) {
        std::string message =
            absl::StrCat("the emulated CPU faulted: ", cpu_.fault(), "; ", Name(current_), " at ",
                         At(cpu_.current_instruction()), "; registers: ", RegisterDump());
        if (in_switch_ && to_ < 0 && violation_.empty()) {
          uint64_t pc = cpu_.pc();
          if (pc >= switch_begin_ && pc < switch_end_) {
            Violation("thread-entry",
                      absl::StrFormat("the switch from %s to a new thread (save area %#x) "
                                      "faulted at %s with sp=%#x: the context it loads is not a "
                                      "started thread's (were its stack pointer and entry set, "
                                      "and did nothing write over them?); %s",
                                      Name(from_), to_area_, At(pc), Sp(), message));
          } else {
            Violation("thread-entry",
                      absl::StrFormat("the switch from %s to a new thread (save area %#x) "
                                      "jumped to %#x, where there is no code: the new thread's "
                                      "context has no return address (is ra/the entry set?); %s",
                                      Name(from_), to_area_, pc, message));
          }
        }
        Violation("no-cpu-fault", std::move(message));
      } else if (why == emu::StopReason::kHypercall) {
        Hypercall();
        // A system call is a step of the simulator: a program that prints 200,000 lines before
        // its first switch is not stuck. Its liveness is thread-progress's instruction budget.
        if (sim_ != nullptr) sim_->NoteProgress();
      } else if (event_ != Event::kNone && violation_.empty()) {
        Handle(event_);
      }
      if (!violation_.empty()) {
        if (sim_ == nullptr) return;
        sim_->Fail(violated_, violation_);
      }
      if (ended_) {
        if (sim_ == nullptr) return;
        Finish();
      }
      if (sim_ != nullptr) {
        FollowThread();
        sim_->PointAt(sim::EmulatedPc(cpu_.pc()));
      }
    }
  }

  // Moves the emulation loop onto the fiber of the thread that now runs.
  void FollowThread() {
    while (fibers_.size() < threads_.size()) {
      const Thread& t = threads_[fibers_.size()];
      fibers_.push_back(sim_->CreateFiber(t.function, &Execution::Main, this));
    }
    sim::Fiber* want = fibers_[static_cast<size_t>(current_)];
    if (want == on_) return;
    sim::Fiber* from = on_;
    on_ = want;
    sim_->Switch(from, want);
  }

  // Describes the program's code addresses for the views (sim/trace.h): function, the file and
  // line of the cross compiler's line table, and the line's text read from `root`.
  static sim::EmulatedCode Describer(const emu::Machine& cpu, const std::string& root) {
    auto lines = std::make_shared<std::map<std::string, std::vector<std::string>>>();
    return [&cpu, root, lines](uint64_t address) {
      sim::EmulatedLocation where;
      if (const emu::Symbol* f = cpu.elf().FunctionAt(address)) {
        where.function = f->name;
      } else {
        std::string label = cpu.Where(address);  // an assembly label: "thread_switch+8"
        if (label.find('+') != std::string::npos) where.function = label.substr(0, label.find('+'));
      }
      std::string line = cpu.SourceLine(address);
      size_t colon = line.rfind(':');
      if (colon == std::string::npos) return where;
      where.file = line.substr(0, colon);
      where.line = std::atoi(line.c_str() + colon + 1);
      auto it = lines->find(where.file);
      if (it == lines->end()) {
        std::vector<std::string> text;
        std::string path = root.empty() ? where.file : root + "/" + where.file;
        if (const char* workspace = std::getenv("BUILD_WORKSPACE_DIRECTORY");
            root.empty() && workspace != nullptr) {
          path = std::string(workspace) + "/" + where.file;
        }
        std::ifstream in(path);
        for (std::string l; std::getline(in, l);) text.push_back(l);
        it = lines->emplace(where.file, std::move(text)).first;
      }
      if (where.line > 0 && static_cast<size_t>(where.line) <= it->second.size()) {
        std::string text = it->second[static_cast<size_t>(where.line - 1)];
        size_t begin = text.find_first_not_of(" \t");
        where.text = begin == std::string::npos ? "" : text.substr(begin);
      }
      return where;
    };
  }

  void Finish() {
    // The reference makes no switch routine's instructions, so a timer counted in instructions
    // would hit it elsewhere: a program that used the alarm is not compared.
    if (config_.reference && !used_alarm_) CompareWithReference();
    sim_->Note("uthread.exit", static_cast<uint64_t>(status_), switches_);
    sim_->Finish();
  }

  // Fail() never returns and this fiber's frames are never unwound, so the reference execution
  // (and its pooled Machine) must be gone before it is called: the comparison returns the
  // message, and Finish() fails with it.
  void CompareWithReference() {
    std::string message = ReferenceDifference();
    if (!message.empty()) sim_->Fail("output-matches-reference", std::move(message));
  }

  // "" when the reference run prints and exits the same (or could not be run).
  std::string ReferenceDifference() {
    uint64_t instructions = last_run_instructions, switches = last_run_switches;
    Execution reference(config_, nullptr, decisions_);
    reference.reference_ = true;
    bool ended = reference.RunReference();
    last_run_instructions = instructions;
    last_run_switches = switches;
    if (!ended) {
      // The reference did not end (its own fault or budget): nothing to compare with.
      last_run_reference = ReferenceResult::kFailed;
      sim_->Note("uthread.reference-failed");
      return "";
    }
    last_run_reference = ReferenceResult::kCompared;
    if (reference.output() == output_ && reference.status() == status_) return "";
    size_t line = 0, i = 0;
    const std::string& a = output_;
    const std::string& b = reference.output();
    while (i < a.size() && i < b.size() && a[i] == b[i]) {
      if (a[i] == '\n') ++line;
      ++i;
    }
    // The line holding offset `at`, escaped (a program's output may hold control characters,
    // which the message must not send to a terminal) and cut to kShownBytesMax around `at` (a
    // line may be a megabyte long, and the message is one line).
    auto line_of = [](const std::string& s, size_t at) {
      constexpr size_t kShownBytesMax = 160, kBeforeBytes = 60;
      static_assert(kBeforeBytes < kShownBytesMax);
      size_t begin = s.rfind('\n', at == 0 ? 0 : at - 1);
      begin = begin == std::string::npos || at == 0 ? 0 : begin + 1;
      size_t end = s.find('\n', at);
      if (end == std::string::npos) end = s.size();
      std::string before, after;
      if (end - begin > kShownBytesMax && at > begin + kBeforeBytes) {
        begin = at - kBeforeBytes;
        before = "...";
      }
      if (end - begin > kShownBytesMax) {
        end = begin + kShownBytesMax;
        after = "...";
      }
      return absl::StrCat(before, absl::CHexEscape(s.substr(begin, end - begin)), after);
    };
    std::string message;
    if (a == b) {
      message = absl::StrFormat(
          "the program exited with status %d; with every switch made correctly (by switchyard) "
          "under the same decisions it exits with %d",
          status_, reference.status());
    } else {
      message = absl::StrFormat(
          "output line %d is \"%s\"; with every switch made correctly (by switchyard) under the "
          "same decisions it is \"%s\"",
          line + 1, i < a.size() ? line_of(a, i) : "(end of output)",
          i < b.size() ? line_of(b, i) : "(end of output)");
    }
    return message;
  }

  // ---- the step hook: cheap tests, then a stop so that Loop() handles the event ----
  void OnStep(uint64_t pc) {
    if (pc == ignore_pc_) {
      ignore_pc_ = 0;
      if (!in_switch_) return;
    }
    if (in_switch_) {
      if (pc < switch_begin_ || pc >= switch_end_) {
        Raise(Event::kSwitchDone, pc);
        return;
      }
      uint64_t sp = Sp();
      if (sp <= switch_sp_ && sp + 0x1000 > switch_sp_)
        switch_min_sp_ = std::min(switch_min_sp_, sp);
      return;
    }
    if (pc == switch_begin_) {
      Raise(Event::kSwitchEntry, pc);
    } else if (pc == again_) {
      Raise(Event::kAgain, pc);
    } else if (pc == yield_ && yield_ != 0) {
      Raise(Event::kYieldEntry, pc);
    } else if (watch_pc_ != 0 && pc == watch_pc_) {
      Raise(Event::kYieldReturn, pc);
    }
  }
  void Raise(Event event, uint64_t pc) {
    event_ = event;
    ignore_pc_ = pc;
    cpu_.Stop();
  }

  void Handle(Event event) {
    switch (event) {
      case Event::kSwitchEntry:
        return OnSwitchEntry();
      case Event::kSwitchDone:
        return OnSwitchDone();
      case Event::kYieldEntry:
        return OnYieldEntry();
      case Event::kAgain:
        return OnAgain();
      case Event::kYieldReturn:
        return OnYieldReturn();
      case Event::kNone:
        return;
    }
  }

  Thread& Current() { return threads_[static_cast<size_t>(current_)]; }

  void OnYieldEntry() {
    Thread& t = Current();
    uint32_t extra = 0;
    if (injected_) {
      injected_ = false;
    } else if (config_.extra_yields > 0) {
      if (sim_ != nullptr) {
        extra =
            static_cast<uint32_t>(sim_->decider().Choose(yield_stream_, config_.extra_yields + 1));
        decisions_->push_back(extra);
      } else {
        extra = next_decision_ < decisions_->size() ? (*decisions_)[next_decision_] : 0;
        ++next_decision_;
      }
      if (extra > 0) {
        t.again_left = extra;
        t.again_return = ReturnAddress();
        SetReturnAddress(again_);
      }
    }
    if (lab_.present && sim_ != nullptr) {
      t.yielding = true;
      t.yield_pc = ReturnAddress();
      t.yield_sp = ReturnSp(Sp());
      t.yield_switches = switches_;
      t.runnable_then.clear();
      int mine = SlotOf(t.area != 0 ? t.area : Word(lab_.current_thread));
      for (int s = 0; s < static_cast<int>(lab_.threads); ++s) {
        if (s != mine && LabState(s) == lab_.runnable) t.runnable_then.push_back(s);
      }
      watch_pc_ = t.yield_pc;
    }
  }

  // A yield the model added returns to sy_again: call the yield function again, returning to
  // sy_again while more are owed, then to the program's own return address.
  void OnAgain() {
    Thread& t = Current();
    if (t.yielding && t.yield_pc == again_) CheckYieldReturn(t);
    if (t.again_left == 0) {
      Violation("no-cpu-fault", absl::StrCat(Name(current_),
                                             " reached sy_again, which only a "
                                             "yield the model added returns to"));
      return;
    }
    --t.again_left;
    uint64_t back = t.again_left > 0 ? again_ : t.again_return;
    if (abi_.return_address >= 0) {
      cpu_.SetReg(abi_.return_address, back);
    } else {
      cpu_.SetReg(abi_.sp, Sp() - 4);
      SetWord(Sp(), back);
    }
    cpu_.set_pc(yield_);
    injected_ = true;
    ignore_pc_ = 0;
  }

  void OnYieldReturn() {
    Thread& t = Current();
    if (t.yielding && Sp() == t.yield_sp) CheckYieldReturn(t);
  }

  void CheckYieldReturn(Thread& t) {
    t.yielding = false;
    watch_pc_ = 0;
    if (t.yield_switches != switches_ || t.runnable_then.empty()) return;
    int slot = t.runnable_then.front();
    Violation("yield-lets-others-run",
              absl::StrFormat("%s's %s returned without a switch while all_thread[%d] was "
                              "RUNNABLE: the scheduler picked the current thread again",
                              Name(current_), config_.program->yield_symbol, slot));
  }

  void OnSwitchEntry() {
    Thread& t = Current();
    uint64_t from_area = Arg(0), to_area = Arg(1);
    if (t.area != from_area) {
      if (t.area != 0) areas_.erase(t.area);
      t.area = from_area;
      t.area_low = t.area_high = 0;
    }
    areas_[from_area] = current_;
    t.resume_pc = ReturnAddress();
    t.resume_sp = ReturnSp(Sp());
    t.real.clear();
    t.expected.clear();
    for (size_t r = 0; r < checked_.size(); ++r) {
      t.real.push_back(R(checked_[r].id));
      uint64_t marker = Marker(r, current_, t.switches_out);
      t.expected.push_back(marker);
      cpu_.SetReg(checked_[r].id, marker);
    }
    ++t.switches_out;
    from_ = current_;
    to_area_ = to_area;
    auto it = areas_.find(to_area);
    to_ = it == areas_.end() ? -1 : it->second;
    switch_sp_ = switch_min_sp_ = Sp();
    if (reference_ && to_ >= 0 && to_ != from_ && !threads_[static_cast<size_t>(to_)].finished) {
      // The reference: the host switches, as a correct routine would.
      Thread& u = threads_[static_cast<size_t>(to_)];
      t.suspended = true;
      for (size_t r = 0; r < checked_.size(); ++r) cpu_.SetReg(checked_[r].id, u.real[r]);
      cpu_.SetReg(abi_.sp, u.resume_sp);
      cpu_.set_pc(u.resume_pc);
      u.suspended = false;
      current_ = to_;
      ++switches_;
      ignore_pc_ = 0;
      return;
    }
    in_switch_ = true;
    if (sim_ != nullptr) {
      sim_->Note("uthread.switch", static_cast<uint64_t>(from_),
                 static_cast<uint64_t>(to_ < 0 ? 0xffff : to_));
    }
  }

  void OnSwitchDone() {
    in_switch_ = false;
    ++switches_;
    uint64_t pc = cpu_.pc(), sp = Sp();
    Thread& from = threads_[static_cast<size_t>(from_)];
    from.suspended = true;
    from.protect_low = std::min(from.resume_sp, switch_min_sp_);
    if (sim_ != nullptr) sim_->NoteProgress();
    std::optional<int> resumed;
    if (to_ >= 0) {
      Thread& u = threads_[static_cast<size_t>(to_)];
      bool fresh = pc != u.resume_pc && u.finished && elf_.FunctionAt(pc) != nullptr &&
                   elf_.FunctionAt(pc)->address == pc;
      if (!fresh) resumed = to_;
    }
    if (resumed) {
      Thread& u = threads_[static_cast<size_t>(*resumed)];
      if (u.finished && lab_.present && !reference_) {
        Violation("finished-thread-resumed",
                  absl::StrFormat("the switch from %s resumed %s, which had marked itself FREE "
                                  "at %s and switched away: it continues at %s",
                                  Name(from_), Name(*resumed), At(u.finished_at), At(pc)));
        return;
      }
      if (!reference_ && (pc != u.resume_pc || sp != u.resume_sp)) {
        Violation("switch-resumes-thread",
                  absl::StrFormat("the switch from %s to %s (save area %#x) continued at %s "
                                  "with sp=%#x; %s called the switch from %s and must return "
                                  "there with sp=%#x",
                                  Name(from_), Name(*resumed), to_area_, At(pc), sp, Name(*resumed),
                                  At(u.resume_pc - (abi_.word == 4 ? 5 : 4)), u.resume_sp));
        return;
      }
      for (size_t r = 0; r < checked_.size() && !reference_; ++r) {
        uint64_t got = R(checked_[r].id);
        if (got == u.expected[r]) continue;
        Violation("callee-saved-preserved",
                  absl::StrFormat("%s resumed with %s=%#x%s; it switched out with %s=%#x (the "
                                  "switch must save and restore every callee-saved register: "
                                  "%s)",
                                  Name(*resumed), checked_[r].name, got, DescribeMarker(got),
                                  checked_[r].name, u.expected[r], CheckedNames()));
        return;
      }
      for (size_t r = 0; r < checked_.size(); ++r) cpu_.SetReg(checked_[r].id, u.real[r]);
      u.suspended = false;
      current_ = *resumed;
    } else {
      // A new thread, started by the switch.
      const emu::Symbol* f = elf_.FunctionAt(pc);
      if (f == nullptr || f->address != pc) {
        Violation("thread-entry",
                  absl::StrFormat("the switch from %s to a new thread (save area %#x) continued "
                                  "at %s, which is not the first instruction of a function (is "
                                  "the new thread's return address set to its function?)",
                                  Name(from_), to_area_, At(pc)));
        return;
      }
      Thread n;
      n.function = f->name;
      n.area = to_area_;
      n.top = sp + (abi_.return_address >= 0 ? 0 : 4);
      if (to_ >= 0) {
        threads_[static_cast<size_t>(to_)].area = 0;  // its slot now holds a new thread
      }
      threads_.push_back(n);
      current_ = static_cast<int>(threads_.size() - 1);
      areas_[to_area_] = current_;
      if (sp % abi_.word != 0) {
        Violation("thread-entry",
                  absl::StrFormat("%s starts with sp=%#x, which is not %d-byte aligned (%s %% %d "
                                  "== 0): its every spill is a misaligned access (is the new "
                                  "thread's stack pointer the top of its stack?)",
                                  Name(current_), sp, abi_.word, abi_.word == 4 ? "esp" : "sp",
                                  abi_.word));
        return;
      }
      if (config_.abi_alignment && (sp + abi_.entry_offset) % 16 != 0) {
        Violation("thread-entry",
                  absl::StrFormat("%s starts with sp=%#x: the psABI requires %s at a function's "
                                  "entry (round the new thread's stack top down to 16 bytes: "
                                  "is sizeof(struct thread) a multiple of 16?)",
                                  Name(current_), sp, abi_.alignment_rule));
        return;
      }
    }
    if (lab_.present && !reference_) CheckCurrentThread();
  }

  std::string CheckedNames() const {
    std::string out;
    for (const Reg& r : checked_) absl::StrAppend(&out, out.empty() ? "" : " ", r.name);
    return out;
  }

  void CheckCurrentThread() {
    int slot = SlotOf(to_area_);
    if (slot < 0) return;  // a save area outside all_thread: nothing to compare
    uint64_t current = Word(lab_.current_thread);
    uint64_t expected = lab_.all_thread + lab_.thread_bytes * static_cast<uint64_t>(slot);
    if (current != expected) {
      int named = SlotOf(current);
      Violation("current-thread-runs",
                absl::StrFormat("after the switch from %s, %s runs (all_thread[%d]) but "
                                "current_thread is %s",
                                Name(from_), Name(current_), slot,
                                named >= 0 ? absl::StrFormat("&all_thread[%d]", named)
                                           : absl::StrFormat("%#x", current)));
      return;
    }
    int64_t state = LabState(slot);
    if (state != lab_.running) {
      Violation("current-thread-runs",
                absl::StrFormat("after the switch from %s, %s runs (all_thread[%d]) but its "
                                "state is %s, not RUNNING",
                                Name(from_), Name(current_), slot, StateName(state)));
    }
  }

  // ---- every load and store ----
  void OnAccess(uint64_t address, int size, bool store) {
    if (!violation_.empty()) return;
    if (size > 1 && address % static_cast<uint64_t>(size) != 0 && !reference_) {
      Violation("misaligned-access",
                absl::StrFormat("%s %s %d bytes at %#x (%s), not %d-byte aligned; %s runs",
                                At(cpu_.current_instruction()), store ? "stored" : "loaded", size,
                                address, DescribeAddress(address), size, Name(current_)));
      return;
    }
    if (!store) return;
    uint64_t end = address + static_cast<uint64_t>(size);
    if (in_switch_) {
      Thread& from = threads_[static_cast<size_t>(from_)];
      if (address >= from.area && address < from.area + kAreaWindow) {
        if (from.area_high <= from.area_low) {
          from.area_low = address;
          from.area_high = end;
        } else {
          from.area_low = std::min(from.area_low, address);
          from.area_high = std::max(from.area_high, end);
        }
      }
    }
    for (size_t t = 0; t < threads_.size() && !reference_; ++t) {
      const Thread& th = threads_[t];
      if (!th.suspended) continue;
      bool in_area = th.area_high > th.area_low && address < th.area_high && end > th.area_low;
      bool in_stack = address < th.top && end > th.protect_low;
      if (!in_area && !in_stack) continue;
      Violation("suspended-state-unchanged",
                absl::StrFormat("%s wrote %d bytes at %#x, %s, while %s was suspended (running: "
                                "%s%s)",
                                At(cpu_.current_instruction()), size, address,
                                DescribeAddress(address), Name(static_cast<int>(t)), Name(current_),
                                in_switch_ ? ", inside its switch" : ""));
      return;
    }
    if (lab_.present) {
      int slot = SlotOf(address);
      if (slot < 0) return;
      uint64_t state =
          lab_.all_thread + lab_.thread_bytes * static_cast<uint64_t>(slot) + lab_.state_offset;
      if (address != state) return;
      int64_t value = static_cast<int64_t>(cpu_.store_value() << (64 - 8 * lab_.state_bytes)) >>
                      (64 - 8 * lab_.state_bytes);
      Thread& me = Current();
      int mine = SlotOf(me.area != 0 ? me.area : Word(lab_.current_thread));
      if (slot == mine && value == lab_.free) {
        me.finished = true;
        me.finished_at = cpu_.current_instruction();
      }
    }
  }

  // ---- system calls ----
  // The CPU exceptions Unicorn reports as interrupts, by number: only the system call
  // instruction (RISC-V ecall, cause 8; i386 int $0x80) is a hypercall.
  std::string ExceptionName(uint32_t n) const {
    static const char* const kRiscv[] = {"instruction address misaligned",
                                         "instruction access fault",
                                         "illegal instruction",
                                         "breakpoint",
                                         "load address misaligned",
                                         "load access fault",
                                         "store address misaligned",
                                         "store access fault"};
    static const char* const kI386[] = {"divide error",
                                        "debug",
                                        "NMI",
                                        "breakpoint",
                                        "overflow",
                                        "bound range exceeded",
                                        "invalid opcode",
                                        "device not available"};
    if (abi_.isa == emu::Isa::kI386 && n < 8) return kI386[n];
    if (abi_.isa == emu::Isa::kI386 && n == 13) return "general protection";
    if (abi_.isa != emu::Isa::kI386 && n < 8) return kRiscv[n];
    return absl::StrCat("exception ", n);
  }

  bool IsSystemCall(uint32_t n) const {
    return abi_.isa == emu::Isa::kI386 ? n == 0x80 : (n == 8 || n == 9 || n == 11);
  }

  void Hypercall() {
    if (!IsSystemCall(cpu_.interrupt())) {
      Violation("no-cpu-fault",
                absl::StrFormat("the emulated CPU raised %s (%d) in %s at %s; registers: %s",
                                ExceptionName(cpu_.interrupt()), cpu_.interrupt(), Name(current_),
                                At(cpu_.current_instruction()), RegisterDump()));
      return;
    }
    uint64_t number = cpu_.hypercall();
    uint64_t a = R(abi_.args[0].id), b = R(abi_.args[1].id), c = R(abi_.args[2].id);
    uint64_t result = 0;
    // The clock: a tick per system call, and sleep's ticks. Not instructions: the reference
    // execution (output-matches-reference) runs none of the program's switch routine, and a
    // correct program that prints uptime() must print the same in both.
    ++ticks_;
    switch (number) {
      case SY_HC_EXIT:
        status_ = abi_.word == 4 ? static_cast<int32_t>(a) : static_cast<int64_t>(a);
        ended_ = true;
        if (lab_.present && !reference_) CheckEnd();
        return;
      case SY_HC_WRITE:
        if ((a == 1 || a == 2) && c < kMaxOutput && cpu_.Mapped(b, c)) {
          // Only what still fits is read: a program that writes in a loop past the limit must
          // not cost the host a copy of each write.
          std::string bytes(std::min<uint64_t>(c, kMaxOutput - output_.size()), '\0');
          cpu_.ReadBytes(b, bytes.data(), bytes.size());
          Output(bytes);
          result = c;
        } else {
          result = static_cast<uint64_t>(-1);
        }
        break;
      case SY_HC_PRINTF:
        if ((a == 1 || a == 2) && output_.size() < kMaxOutput) Output(Format(b, Word(c)));
        break;
      case SY_HC_SBRK: {
        int64_t n = abi_.word == 4 ? static_cast<int32_t>(a) : static_cast<int64_t>(a);
        uint64_t limit = kStackTop - kStackBytes;
        uint64_t old = brk_;
        if (n < 0 || brk_ + static_cast<uint64_t>(n) > limit) {
          result = abi_.word == 4 ? 0xffffffffull : ~uint64_t{0};
        } else {
          brk_ += (static_cast<uint64_t>(n) + 15) & ~uint64_t{15};
          result = old;
        }
        break;
      }
      case SY_HC_UPTIME:
        result = ticks_;
        break;
      case SY_HC_SLEEP:
        if (abi_.word == 4 ? static_cast<int32_t>(a) > 0 : static_cast<int64_t>(a) > 0) {
          ticks_ += abi_.word == 4 ? static_cast<uint32_t>(a) : a;
        }
        result = 0;
        break;
      case SY_HC_GETPID:
        result = 3;
        break;
      case SY_HC_SIGALARM: {
        int64_t ticks = abi_.word == 4 ? static_cast<int32_t>(a) : static_cast<int64_t>(a);
        alarm_.armed = ticks > 0 && b != 0 && config_.timer && !reference_;
        alarm_.period = ticks > 0 ? static_cast<uint64_t>(ticks) * kInstructionsPerTick : 0;
        alarm_.handler = b;
        if (alarm_.armed && !alarm_.in_handler) ArmNext();
        used_alarm_ = used_alarm_ || ticks > 0;
        result = 0;
        break;
      }
      case SY_HC_SIGRETURN:
        if (!alarm_.in_handler) {
          result = static_cast<uint64_t>(-1);
          break;
        }
        SigReturn();
        return;
      default:
        Violation("no-cpu-fault",
                  absl::StrFormat("%s made system call %d at %s, which switchyard's stand-in "
                                  "for xv6's user library does not serve",
                                  Name(current_), static_cast<int64_t>(number),
                                  At(cpu_.current_instruction())));
        return;
    }
    cpu_.SetReg(abi_.result, result);
  }

  // ---- the alarm (xv6's sigalarm/sigreturn): preemption at decider-chosen instructions ----
  void ArmNext() {
    uint64_t offset = sim_ != nullptr ? sim_->decider().Choose(timer_stream_,
                                                               static_cast<uint32_t>(alarm_.period))
                                      : 0;
    alarm_.next = cpu_.instructions() + 1 + offset;
  }

  std::vector<int> SavedRegisters() const {
    std::vector<int> regs;
    if (abi_.isa == emu::Isa::kRiscv64) {
      for (int r = UC_RISCV_REG_X1; r <= UC_RISCV_REG_X31; ++r) regs.push_back(r);
      regs.push_back(UC_RISCV_REG_PC);
    } else {
      regs = {UC_X86_REG_EAX, UC_X86_REG_EBX, UC_X86_REG_ECX, UC_X86_REG_EDX, UC_X86_REG_ESI,
              UC_X86_REG_EDI, UC_X86_REG_EBP, UC_X86_REG_ESP, UC_X86_REG_EIP, UC_X86_REG_EFLAGS};
    }
    return regs;
  }

  // The timer fires: the registers go to the host, the handler starts where the program was,
  // returning to address 0 (a handler must end with sigreturn). A switch in flight is set aside
  // until sigreturn: the handler's own instructions are not the switch's.
  void Deliver() {
    alarm_.saved.clear();
    for (int r : SavedRegisters()) alarm_.saved.push_back(R(r));
    alarm_.saved_ignore = ignore_pc_;
    alarm_.saved_switch = {in_switch_, from_, to_, to_area_, switch_sp_, switch_min_sp_};
    alarm_.delivered_at = cpu_.pc();
    alarm_.delivered_to = current_;
    alarm_.in_handler = true;
    alarm_.stalled_after = cpu_.instructions() + kStallPeriods * alarm_.period;
    ++alarm_.deliveries;
    if (sim_ != nullptr) last_run_alarms = alarm_.deliveries;
    in_switch_ = false;
    ignore_pc_ = 0;
    if (sim_ != nullptr) {
      sim_->Note("uthread.alarm", static_cast<uint64_t>(current_), alarm_.deliveries);
      sim_->NoteProgress();
    }
    if (abi_.return_address >= 0) {
      cpu_.SetReg(abi_.return_address, 0);
    } else {
      cpu_.SetReg(abi_.sp, Sp() - 4);
      SetWord(Sp(), 0);
    }
    cpu_.set_pc(alarm_.handler);
  }

  void SigReturn() {
    std::vector<int> regs = SavedRegisters();
    for (size_t i = 0; i < regs.size(); ++i) cpu_.SetReg(regs[i], alarm_.saved[i]);
    ignore_pc_ = alarm_.saved_ignore;
    const SwitchState& w = alarm_.saved_switch;
    in_switch_ = w.in_switch;
    from_ = w.from;
    to_ = w.to;
    to_area_ = w.to_area;
    switch_sp_ = w.sp;
    switch_min_sp_ = w.min_sp;
    alarm_.in_handler = false;
    if (alarm_.armed) ArmNext();
  }

  // Preemption silently lost: the timer has been due for kStallPeriods periods and cannot be
  // delivered, because a handler never returned with sigreturn (a thread switched away inside it
  // and the threads that run now run with the timer masked).
  void CheckTimerDelivered() {
    if (cpu_.instructions() < alarm_.stalled_after || sim_ == nullptr) return;
    std::string message = absl::StrFormat(
        "the timer has been due for %d periods of %d instructions and cannot be delivered: the "
        "handler it started in %s at %s has not called sigreturn, and %s runs with the timer "
        "masked (did the handler switch threads before sigreturn?)",
        kStallPeriods, alarm_.period, Name(alarm_.delivered_to), At(alarm_.delivered_at),
        Name(current_));
    sim_->FailLiveness("timer-delivered", std::move(message));
  }

  void CheckEnd() {
    for (int s = 0; s < static_cast<int>(lab_.threads); ++s) {
      if (LabState(s) != lab_.runnable) continue;
      Violation("scheduler-ends-when-none-runnable",
                absl::StrFormat("the program exited (status %d, from %s at %s) while "
                                "all_thread[%d] was RUNNABLE",
                                status_, Name(current_), At(cpu_.current_instruction()), s));
      return;
    }
  }

  void Output(const std::string& text) {
    if (output_.size() < kMaxOutput) output_ += text.substr(0, kMaxOutput - output_.size());
  }

  std::string CString(uint64_t address) const {
    std::string s;
    while (s.size() < 4096 && cpu_.Mapped(address, 1)) {
      char ch;
      cpu_.ReadBytes(address++, &ch, 1);
      if (ch == '\0') break;
      s += ch;
    }
    return s;
  }

  // xv6's printf: %d %u %x %p %s %c %% and the l/ll sizes, arguments read from the va_list.
  std::string Format(uint64_t format, uint64_t ap) {
    std::string f = CString(format), out;
    auto next = [&](uint64_t bytes) {
      uint64_t slot = std::max<uint64_t>(bytes, abi_.word);
      uint64_t v = 0;
      if (cpu_.Mapped(ap, slot)) cpu_.ReadBytes(ap, &v, bytes);
      ap += slot;
      return v;
    };
    // Formatting stops where the output would be cut anyway: a format of thousands of %s, each
    // a 4 KiB string, would otherwise build megabytes per call.
    size_t room = kMaxOutput - output_.size();
    for (size_t i = 0; i < f.size() && out.size() < room; ++i) {
      if (f[i] != '%' || i + 1 >= f.size()) {
        out += f[i];
        continue;
      }
      ++i;
      int longs = 0;
      while (i < f.size() && f[i] == 'l') ++longs, ++i;
      if (i >= f.size()) break;
      uint64_t bytes = longs >= 2 ? 8 : longs == 1 ? abi_.word : 4;
      switch (f[i]) {
        case 'd': {
          uint64_t v = next(bytes);
          int64_t s =
              bytes == 8 ? static_cast<int64_t>(v) : static_cast<int64_t>(static_cast<int32_t>(v));
          absl::StrAppend(&out, s);
          break;
        }
        case 'u':
          absl::StrAppend(&out, next(bytes));
          break;
        case 'x':
          absl::StrAppendFormat(&out, "%x", next(bytes));
          break;
        case 'p':
          absl::StrAppendFormat(&out, "0x%0*x", static_cast<int>(2 * abi_.word), next(abi_.word));
          break;
        case 's': {
          uint64_t s = next(abi_.word);
          out += s == 0 ? "(null)" : CString(s);
          break;
        }
        case 'c':
          out += static_cast<char>(next(4));
          break;
        case '%':
          out += '%';
          break;
        default:
          out += '%';
          out += f[i];
      }
    }
    return out;
  }

  const Config& config_;
  const Abi& abi_;
  sim::Simulator* sim_;
  std::vector<uint32_t>* decisions_;
  size_t next_decision_ = 0;
  emu::Machine& cpu_;
  const emu::Elf& elf_;
  std::vector<sim::Fiber*> fibers_;  // per thread
  sim::Fiber* on_ = nullptr;         // the fiber the emulation loop runs on
  sim::StreamId yield_stream_{};
  bool reference_ = false;
  Lab lab_;
  std::vector<Reg> checked_;
  uint64_t switch_begin_ = 0, switch_end_ = 0, yield_ = 0, again_ = 0;
  uint64_t brk_ = 0;
  uint64_t ticks_ = 0;  // uptime()
  std::vector<Thread> threads_;
  std::map<uint64_t, int> areas_;  // save area -> thread
  int current_ = 0;
  // The switch in flight.
  bool in_switch_ = false;
  int from_ = 0, to_ = -1;
  uint64_t to_area_ = 0, switch_sp_ = 0, switch_min_sp_ = 0;
  uint64_t switches_ = 0;
  bool injected_ = false;
  struct SwitchState {
    bool in_switch = false;
    int from = 0, to = -1;
    uint64_t to_area = 0, sp = 0, min_sp = 0;
  };
  struct Alarm {
    bool armed = false;
    uint64_t period = 0;  // instructions
    uint64_t handler = 0;
    uint64_t next = 0;  // the instruction count at which it fires
    bool in_handler = false;
    uint64_t stalled_after = 0;
    std::vector<uint64_t> saved;
    uint64_t saved_ignore = 0;
    SwitchState saved_switch;
    uint64_t delivered_at = 0;
    int delivered_to = 0;
    uint64_t deliveries = 0;
  } alarm_;
  bool used_alarm_ = false;
  sim::StreamId timer_stream_{};
  uint64_t watch_pc_ = 0;
  Event event_ = Event::kNone;
  uint64_t ignore_pc_ = 0;
  std::string output_;
  int64_t status_ = 0;
  bool ended_ = false;
  const char* violated_ = "";
  std::string violation_;
};

}  // namespace

const char* ArchName(Arch arch) { return arch == Arch::kI386 ? "i386" : "riscv64"; }

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  SY_CHECK(config.program != nullptr && config.program->image != nullptr);
  options.cpus = 1;
  // Unicorn's translator and its hooks run on the fiber's stack.
  options.stack_bytes = std::max<size_t>(options.stack_bytes, 1 << 20);
  sim::Simulator simulator(options, decider);
  last_run_reference = ReferenceResult::kNotRun;
  last_run_alarms = 0;
  std::vector<uint32_t> decisions;
  Execution execution(config, &simulator, &decisions);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  return outcome;
}

uint64_t LastRunInstructions() { return last_run_instructions; }
uint64_t LastRunSwitches() { return last_run_switches; }
ReferenceResult LastRunReference() { return last_run_reference; }
uint64_t LastRunAlarms() { return last_run_alarms; }

std::string ImageDoesNotFit(const emu::Elf& elf) {
  constexpr uint64_t limit = kStackTop - kStackBytes;
  static_assert(kMemoryBase < limit && limit < kStackTop);
  for (const emu::Segment& segment : elf.segments()) {
    uint64_t end = segment.address + segment.bytes.size();
    if (segment.address < kMemoryBase || end < segment.address || end > limit) {
      return absl::StrFormat(
          "the program's image takes 0x%x..0x%x (its code, data and static arrays), but the model "
          "gives a program %d KiB from 0x%x (then the main thread's stack): make its static arrays "
          "smaller",
          segment.address, end, (limit - kMemoryBase) / 1024, kMemoryBase);
    }
  }
  return "";
}

std::vector<std::string> InvariantNames() {
  return {"callee-saved-preserved",
          "switch-resumes-thread",
          "thread-entry",
          "suspended-state-unchanged",
          "current-thread-runs",
          "finished-thread-resumed",
          "yield-lets-others-run",
          "scheduler-ends-when-none-runnable",
          "misaligned-access",
          "no-cpu-fault",
          "output-matches-reference",
          "thread-progress",
          "timer-delivered"};
}

}  // namespace switchyard::uthread
