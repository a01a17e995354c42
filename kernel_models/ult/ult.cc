#include "kernel_models/ult/ult.h"

#include <unicorn/unicorn.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "arch/emu/machine.h"
#include "base/check.h"

namespace switchyard::ult {
namespace {

// Constants shared with lib/threads.h and lib/hypercall.h (the C side's contract).
constexpr int kMaxThreads = 4;
constexpr uint32_t kStackSize = 4096;
constexpr uint32_t kOffId = 16, kOffNext = 8, kOffState = 20, kOffArg = 28;
constexpr uint32_t kRunnable = 1;
constexpr uint64_t kHcChoose = 1, kHcFail = 2, kHcHalt = 3, kHcSigreturn = 4;
constexpr uint64_t kFailLocals = 1, kFailArgument = 2, kFailRing = 3, kFailTrap = 4;
constexpr uint64_t kMemoryBase = 0x10000, kMemorySize = 0x40000;
// Instructions one run may execute; a correct run of the default workload needs far fewer.
constexpr uint64_t kInstructionBudget = 2'000'000;
static_assert(kMemoryBase % 4096 == 0 && kMemorySize % 4096 == 0);
// timer-delivered: a timer signal that falls due and cannot be delivered is normal for the few
// instructions of a critical section; this many consecutive ones spread over at least this many
// instructions mean preemption is lost. A correct library blocks the signal for tens of
// instructions at a time (a release() or a thread_create()).
constexpr uint32_t kUndeliveredSignalsMax = 4;
constexpr uint64_t kUndeliveredInstructionsMax = 20'000;
static_assert(kUndeliveredInstructionsMax < kInstructionBudget / 10);

thread_local uint64_t last_run_instructions = 0;

// The state release() was called with, by one thread; matched on return by esp.
struct Pending {
  uint32_t thread;
  uint32_t esp, ebx, esi, edi, ebp, ret;
};

class Model : public sim::Machine {
 public:
  Model(const Config& config, sim::Simulator& sim)
      : config_(config),
        sim_(sim),
        elf_(*config.program->image),
        cpu_(emu::Isa::kI386, elf_, kMemoryBase, kMemorySize),
        choose_(sim.decider().Stream("ult.choose")),
        timer_(sim.decider().Stream("ult.timer")) {
    release_ = Symbol("release");
    worker_ = Symbol("worker");
    handler_ = Symbol("sigalrm_handler");
    sigreturn_stub_ = Symbol("sigreturn_stub");
    current_ = Symbol("current");
    threadcount_ = Symbol("threadcount");
    contexts_ = Symbol("contexts");
    stacks_ = Symbol("stacks");
    sigblocked_ = Symbol("sigblocked");
    switch_ = Symbol("switch_context");
    switch_is_called_ = SwitchIsCalled();
    // User code: the workload's functions (those the compiler kept; the rest are inlined into
    // them). sigalrm_handler is not: it runs with the signal masked by the host, as a kernel
    // masks a signal during its own handler.
    for (const char* name : {"main_thread", "worker", "work", "choose"}) {
      const emu::Symbol* s = elf_.FindSymbol(name);
      if (s != nullptr && s->is_function && s->size > 0) {
        user_code_.push_back(
            {static_cast<uint32_t>(s->address), static_cast<uint32_t>(s->address + s->size)});
      }
    }
    SY_CHECK(!user_code_.empty());
    mask_.blocked = Mem(sigblocked_);
    cpu_.SetReg(UC_X86_REG_ESP, stacks_ + kStackSize);  // top of stacks[0]: the main thread
    cpu_.SetStepHook([this](uint64_t pc) { OnStep(static_cast<uint32_t>(pc)); });
    fiber_ = sim.CreateFiber("cpu0", &Model::Main, this);
    sim.SetBootFiber(0, fiber_);
    sim.SetMachine(this);
  }

  void Trap(int, int) override {}
  std::string DescribeStuck() override {
    return absl::StrCat("the emulated CPU is at ", cpu_.Where(cpu_.pc()));
  }

 private:
  static void Main(void* self) { static_cast<Model*>(self)->Loop(); }

  uint32_t Symbol(const char* name) {
    std::optional<uint64_t> address = elf_.Find(name);
    SY_CHECK(address.has_value());
    return static_cast<uint32_t>(*address);
  }
  uint32_t R(int reg) const { return static_cast<uint32_t>(cpu_.Reg(reg)); }
  // A word of emulated memory; 0 outside it (a buggy library's pointers may point anywhere; the
  // checkers then report what the 0 leads to).
  uint32_t Mem(uint32_t address) const {
    return cpu_.Mapped(address, 4) ? cpu_.Read32(address) : 0;
  }
  uint32_t CurrentId() const {
    uint32_t current = Mem(current_);
    if (!cpu_.Mapped(current + kOffId, 4)) return 0xffffffffu;
    return Mem(current + kOffId);
  }
  // The thread whose stack holds `esp`, or -1.
  int StackOwner(uint32_t esp) const {
    if (esp <= stacks_ || esp > stacks_ + kMaxThreads * kStackSize) return -1;
    return static_cast<int>((esp - stacks_ - 1) / kStackSize);
  }

  void Loop() {
    uint32_t until_signal = config_.preemptive ? NextTimer() : 0;
    for (;;) {
      if (cpu_.instructions() >= kInstructionBudget) {
        std::string message = absl::StrCat("the workload did not finish in ", kInstructionBudget,
                                           " instructions; the CPU is at ", cpu_.Where(cpu_.pc()));
        sim_.FailLiveness("ring-progress", std::move(message));
      }
      uint64_t count = until_signal != 0 ? until_signal : kInstructionBudget;
      uint64_t before = cpu_.instructions();
      emu::StopReason why = cpu_.Run(count);
      last_run_instructions = cpu_.instructions();
      if (until_signal != 0) until_signal -= static_cast<uint32_t>(cpu_.instructions() - before);
      if (!violation_.empty()) sim_.Fail(violated_, violation_);
      switch (why) {
        case emu::StopReason::kFault: {
          // Fail() never returns: every string it gets is built first and moved in, so that no
          // temporary is left behind on this fiber's abandoned stack.
          std::string message =
              absl::StrCat("the emulated CPU faulted: ", cpu_.fault(), LastSwitchNote());
          sim_.Fail("no-cpu-fault", std::move(message));
        }
        case emu::StopReason::kStopped:
          break;
        case emu::StopReason::kCountExhausted:
          if (config_.preemptive) {
            if (DeliverSignal()) {
              undelivered_ = 0;
            } else {
              CheckTimerDelivered();
            }
            until_signal = NextTimer();
          }
          break;
        case emu::StopReason::kHypercall:
          Hypercall();
          break;
      }
      sim_.Point();
    }
  }

  uint32_t NextTimer() { return 1 + sim_.decider().Choose(timer_, config_.timer_max); }

  void Hypercall() {
    uint64_t number = cpu_.hypercall();
    uint32_t a = R(UC_X86_REG_EBX), b = R(UC_X86_REG_ECX);
    if (number == kHcChoose) {
      if (choices_ >= config_.choices) {
        sim_.Note("ult.workload-done", choices_);
        sim_.Finish();
      }
      ++choices_;
      uint32_t value = a == 0 ? 0 : sim_.decider().Choose(choose_, a);
      cpu_.SetReg(UC_X86_REG_EAX, value);
      sim_.NoteProgress();
    } else if (number == kHcFail) {
      const char* what = a == kFailLocals     ? "values kept in registers and locals changed"
                         : a == kFailArgument ? "entered with the wrong argument"
                         : a == kFailRing     ? "reached code that must never run"
                                              : "failed";
      if (a == kFailRing) {
        std::string message = absl::StrCat(
            "thread ", b,
            ": thread_exit() returned to its caller: the thread was removed from the ring while it "
            "runs, and release() did not switch away from it",
            LastSwitchNote());
        sim_.Fail("thread-self-check", std::move(message));
      }
      if (a == kFailTrap) {
        std::string message = absl::StrCat(
            "thread ", b,
            " did not enter thread_start: switch_context's ret took thread_start_trap from the "
            "fabricated first frame, which is off by one word",
            LastSwitchNote());
        sim_.Fail("new-thread-entry", std::move(message));
      }
      std::string message =
          absl::StrCat("thread ", b, ": ", what, " across release()", LastSwitchNote());
      sim_.Fail("thread-self-check", std::move(message));
    } else if (number == kHcHalt) {
      sim_.Finish();
    } else if (number == kHcSigreturn) {
      // The frame DeliverSignal pushed, after the stub's return address was popped.
      uint32_t sp = R(UC_X86_REG_ESP);
      static constexpr int kRegs[] = {UC_X86_REG_EAX, UC_X86_REG_ECX,   UC_X86_REG_EDX,
                                      UC_X86_REG_EBX, UC_X86_REG_ESI,   UC_X86_REG_EDI,
                                      UC_X86_REG_EBP, UC_X86_REG_EFLAGS};
      for (int i = 0; i < 8; ++i) cpu_.SetReg(kRegs[i], Mem(sp + 4 * i));
      cpu_.set_pc(Mem(sp + 32));
      cpu_.SetReg(UC_X86_REG_ESP, Mem(sp + 36));
      uint32_t id = CurrentId();
      if (id < kMaxThreads) in_handler_[id] = false;
    } else {
      std::string message =
          absl::StrCat("unknown hypercall ", number, " at ", cpu_.Where(cpu_.pc()));
      sim_.Fail("no-cpu-fault", std::move(message));
    }
  }

  // The virtual timer signal: like a kernel, push the interrupted registers and a return address
  // into sigreturn_stub on the running thread's stack, and enter the handler as if called.
  // Returns false when the signal could not be delivered (blocked, or the thread is in its
  // handler): it is lost, as a second SIGALRM is while one is pending.
  bool DeliverSignal() {
    uint32_t id = CurrentId();
    if (Mem(sigblocked_) != 0 || id >= kMaxThreads || in_handler_[id]) {
      NoteUndelivered(Mem(sigblocked_) != 0 ? "blocked" : "in its handler");
      return false;
    }
    in_handler_[id] = true;
    ++signals_;
    sim_.Note("ult.signal", id, cpu_.pc());
    uint32_t esp = R(UC_X86_REG_ESP);
    uint32_t frame = ((esp - 40 - 128) & ~15u) - 4;  // below a red zone; (frame + 4) % 16 == 0
    if (!cpu_.Mapped(frame, 44)) {
      Violation("no-cpu-fault", absl::StrFormat("the timer signal arrived with esp=%#x, outside "
                                                "memory%s",
                                                esp, LastSwitchNote()));
      return true;
    }
    uint32_t saved[10] = {R(UC_X86_REG_EAX),
                          R(UC_X86_REG_ECX),
                          R(UC_X86_REG_EDX),
                          R(UC_X86_REG_EBX),
                          R(UC_X86_REG_ESI),
                          R(UC_X86_REG_EDI),
                          R(UC_X86_REG_EBP),
                          R(UC_X86_REG_EFLAGS),
                          static_cast<uint32_t>(cpu_.pc()),
                          esp};
    cpu_.Write32(frame, sigreturn_stub_);
    for (int i = 0; i < 10; ++i) cpu_.Write32(frame + 4 + 4 * i, saved[i]);
    cpu_.SetReg(UC_X86_REG_ESP, frame);
    cpu_.set_pc(handler_);
    return true;
  }

  // ---- The timer signal's contracts (--preemptive=1), on ghost state ----
  //
  // The host keeps its own record of the mask: which instruction last changed sigblocked, on
  // which thread's stack (the stack esp lies in, never the library's `current`), and when. It
  // is read from emulated memory only to see that it changed, because sigblocked is the mask the
  // host delivers by.

  bool InUserCode(uint32_t pc) const {
    for (const auto& [begin, end] : user_code_) {
      if (pc >= begin && pc < end) return true;
    }
    return false;
  }

  // Called before every instruction: the instruction before this one changed the mask.
  void TrackSignalMask() {
    uint32_t blocked = Mem(sigblocked_);
    if (blocked == mask_.blocked) return;
    mask_.blocked = blocked;
    mask_.pc = previous_pc_;
    mask_.thread = StackOwner(R(UC_X86_REG_ESP));
    mask_.instruction = cpu_.instructions();
    if (blocked == 0) mask_.unblocked_once = true;
  }

  // "where the mask was set and by whom", in the library's terms.
  std::string MaskSetter() const {
    if (mask_.pc == 0) return "sigblocked's initial value (before threads_init())";
    return absl::StrFormat("%s on thread %d's stack, %u instructions ago", cpu_.Where(mask_.pc),
                           mask_.thread, cpu_.instructions() - mask_.instruction);
  }

  // user-code-preemptible: once threads_init() has first unblocked the signal, user code never
  // runs with it blocked (the library's critical sections are its own).
  void CheckUserCodePreemptible(uint32_t pc) {
    if (mask_.blocked == 0 || !mask_.unblocked_once || !InUserCode(pc)) return;
    Violation("user-code-preemptible",
              absl::StrFormat("thread %d runs user code at %s with the timer signal blocked: "
                              "blocked at %s, and no path unblocked it before returning to user "
                              "code, so the thread cannot be preempted",
                              StackOwner(R(UC_X86_REG_ESP)), cpu_.Where(pc), MaskSetter()));
  }

  void NoteUndelivered(const char* why) {
    if (undelivered_ == 0) undelivered_since_ = cpu_.instructions();
    ++undelivered_;
    if (InUserCode(static_cast<uint32_t>(cpu_.pc()))) ++undelivered_in_user_;
    last_undelivered_why_ = why;
  }

  // timer-delivered: consecutive due signals that could not be delivered, over many
  // instructions, mean the library runs without preemption.
  void CheckTimerDelivered() {
    const uint64_t span = cpu_.instructions() - undelivered_since_;
    if (undelivered_ < kUndeliveredSignalsMax || span < kUndeliveredInstructionsMax) return;
    std::string message = absl::StrFormat(
        "%u timer signals in a row fell due over %u instructions and none was delivered (%u in "
        "user code; the last: %s); the mask was last set at %s; the CPU is at %s",
        undelivered_, span, undelivered_in_user_, last_undelivered_why_, MaskSetter(),
        cpu_.Where(cpu_.pc()));
    sim_.FailLiveness("timer-delivered", std::move(message));
  }

  void Violation(const char* invariant, std::string message) {
    if (!violation_.empty()) return;
    violated_ = invariant;
    violation_ = std::move(message);
    cpu_.Stop();
  }

  // Called before every instruction.
  void OnStep(uint32_t pc) {
    if (config_.preemptive) TrackSignalMask();
    OnInstruction(pc);
    if (config_.preemptive) CheckUserCodePreemptible(pc);
    previous_pc_ = pc;
  }

  void OnInstruction(uint32_t pc) {
    if (pc == release_) {
      OnReleaseEntry();
    } else if (pc == worker_) {
      OnWorkerEntry();
    } else if (pc == switch_ && switch_is_called_) {
      OnSwitchEntry();
    }
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].ret == pc && pending_[i].esp + 4 == R(UC_X86_REG_ESP)) {
        Pending p = pending_[i];
        pending_.erase(pending_.begin() + static_cast<long>(i));
        OnReleaseReturn(p);
        return;
      }
    }
  }

  void OnReleaseEntry() {
    uint32_t esp = R(UC_X86_REG_ESP);
    uint32_t id = CurrentId();
    ++releases_;
    if (id >= kMaxThreads) {
      Violation(
          "current-names-active-stack",
          absl::StrFormat("release() entered with current = %#x, not a context", Mem(current_)));
      return;
    }
    int owner = StackOwner(esp);
    if (owner != static_cast<int>(id)) {
      Violation("current-names-active-stack",
                absl::StrFormat("release() entered on thread %d's stack (esp=%#x) while current "
                                "names thread %u%s",
                                owner, esp, id, LastSwitchNote()));
      return;
    }
    last_ran_[id] = releases_;
    bool seen[kMaxThreads] = {};
    // Walk the ring: its length must be threadcount, and every member must have run recently.
    uint32_t start = Mem(current_), c = start;
    int length = 0;
    do {
      uint32_t cid = Mem(c + kOffId);
      if (cid >= kMaxThreads || ++length > kMaxThreads) {
        Violation("threadcount-matches-ring", "the ring of contexts does not close");
        return;
      }
      seen[cid] = true;
      if (!in_ring_[cid]) last_ran_[cid] = releases_;  // joined the ring since the last walk
      if (releases_ - last_ran_[cid] > 2 * kMaxThreads + 2) {
        Violation("ring-progress",
                  absl::StrFormat("thread %u is in the ring but has not run for %u releases%s", cid,
                                  releases_ - last_ran_[cid], LastSwitchNote()));
        return;
      }
      c = Mem(c + kOffNext);
    } while (c != start);
    for (int t = 0; t < kMaxThreads; ++t) in_ring_[t] = seen[t];
    uint32_t threadcount = Mem(threadcount_);
    if (static_cast<int>(threadcount) != length) {
      Violation(
          "threadcount-matches-ring",
          absl::StrFormat("threadcount is %u but the ring holds %d threads", threadcount, length));
      return;
    }
    pending_.push_back({id, esp, R(UC_X86_REG_EBX), R(UC_X86_REG_ESI), R(UC_X86_REG_EDI),
                        R(UC_X86_REG_EBP), Mem(esp)});
    if (threadcount > 1) last_switch_from_ = id;
  }

  void OnReleaseReturn(const Pending& p) {
    uint32_t id = CurrentId();
    if (id != p.thread) {
      Violation("switch-moves-stack",
                absl::StrFormat("the switch did not happen: release() returned on thread %u's "
                                "stack while current names thread %u; %s",
                                p.thread, id, DiagnoseSwitch()));
      return;
    }
    last_ran_[id] = releases_;
    struct {
      const char* name;
      uint32_t before, after;
    } regs[] = {{"ebx", p.ebx, R(UC_X86_REG_EBX)},
                {"esi", p.esi, R(UC_X86_REG_ESI)},
                {"edi", p.edi, R(UC_X86_REG_EDI)},
                {"ebp", p.ebp, R(UC_X86_REG_EBP)}};
    for (const auto& r : regs) {
      if (config_.check_callee_saved && r.before != r.after) {
        Violation("callee-saved-preserved",
                  absl::StrFormat("thread %u: %s was %#x when it called release() and %#x when "
                                  "release() returned; %s",
                                  id, r.name, r.before, r.after, DiagnoseSwitch()));
        return;
      }
    }
  }

  // switch_context(from, to) must save the running thread: `from` is the context of the thread
  // whose stack is active.
  void OnSwitchEntry() {
    uint32_t esp = R(UC_X86_REG_ESP);
    uint32_t from = Mem(esp + 4), to = Mem(esp + 8);
    uint32_t from_id = Mem(from + kOffId), to_id = Mem(to + kOffId);
    int owner = StackOwner(esp);
    if (owner >= 0 && static_cast<uint32_t>(owner) != from_id) {
      uint32_t owner_context = contexts_ + 32 * static_cast<uint32_t>(owner);
      bool unlinked = Mem(owner_context + kOffState) != kRunnable;
      Violation("current-names-active-stack",
                absl::StrFormat("switch_context(thread %u, thread %u) runs on thread %d's stack: "
                                "thread %d's registers are saved into thread %u's context%s",
                                from_id, to_id, owner, owner, from_id,
                                unlinked ? absl::StrFormat("; thread %d was removed from the ring "
                                                           "while it runs (current->prev is no "
                                                           "longer it)",
                                                           owner)
                                         : std::string()));
    }
  }

  bool SwitchIsCalled() const {
    const emu::Symbol* release = elf_.FindSymbol("release");
    if (release == nullptr) return false;
    std::string target = absl::StrFormat("%#x", switch_);
    for (uint64_t a = release->address; a < release->address + release->size;) {
      std::string insn = cpu_.Disassemble(a);
      if ((insn.rfind("call", 0) == 0 || insn.rfind("jmp", 0) == 0) &&
          insn.find(target) != std::string::npos) {
        return true;
      }
      a += cpu_.InstructionLength(a);
    }
    return false;
  }

  void OnWorkerEntry() {
    uint32_t esp = R(UC_X86_REG_ESP);
    uint32_t id = CurrentId();
    if (config_.preemptive && mask_.blocked != 0) {
      Violation("new-thread-preemptible",
                absl::StrFormat("thread %d enters worker() with the timer signal blocked "
                                "(blocked at %s): a new thread must start with it unblocked",
                                StackOwner(esp), MaskSetter()));
      return;
    }
    if (id >= kMaxThreads) return;  // current-names-active-stack reports it at release()
    uint32_t context = Mem(current_);
    uint32_t arg = Mem(context + kOffArg);
    last_ran_[id] = releases_;
    if ((esp + 4) % 16 != 0) {
      Violation("new-thread-entry",
                absl::StrFormat("thread %u entered worker() with esp=%#x: (esp + 4) %% 16 = %u, "
                                "the fabricated first frame is misaligned",
                                id, esp, (esp + 4) % 16));
    } else if (Mem(esp + 4) != arg) {
      Violation("new-thread-entry",
                absl::StrFormat("thread %u entered worker() with argument %#x, not %u: the "
                                "fabricated first frame is off",
                                id, Mem(esp + 4), arg));
    } else if (StackOwner(esp) != static_cast<int>(id) || Mem(context + kOffState) != kRunnable) {
      Violation(
          "current-names-active-stack",
          absl::StrFormat("thread %u entered worker() on thread %d's stack", id, StackOwner(esp)));
    }
  }

  // What the compiled switch does, read from its machine code (Capstone), in the model's terms.
  std::string DiagnoseSwitch() const {
    if (!switch_is_called_) {
      return "switch_context was inlined into release(): the ebp it loads is used by release's "
             "own code and epilogue, not by a switch_context frame";
    }
    const emu::Symbol* s = elf_.FindSymbol("switch_context");
    std::string epilogue;
    bool moves_sp = false, pops_ebp = false, saves_regs = false;
    for (uint64_t a = s->address; a < s->address + s->size;) {
      std::string insn = cpu_.Disassemble(a);
      if (insn.rfind("leave", 0) == 0 || insn == "movl %ebp, %esp") moves_sp = true;
      if (insn == "popl %ebp") pops_ebp = true;
      if (insn.rfind("pushl %ebx", 0) == 0 || insn.rfind("pushl %esi", 0) == 0) saves_regs = true;
      if (insn.rfind("movl 4(%edx), %esp", 0) == 0) moves_sp = true;
      a += cpu_.InstructionLength(a);
      epilogue = insn;
    }
    if (saves_regs) return "switch_context saves the callee-saved registers (not the seed's)";
    if (!moves_sp && pops_ebp) {
      return "the epilogue popped ebp from the old stack (pop %ebp with no mov %ebp,%esp or "
             "leave: the stack never moved)";
    }
    if (!moves_sp) {
      return absl::StrCat("switch_context has no frame-pointer epilogue (it ends in '", epilogue,
                          "'): with the frame pointer omitted, loading ebp does not move esp");
    }
    return "switch_context's epilogue moves the stack (leave), but it saves only ebp: ebx, esi "
           "and edi live across release() in the caller come back with another thread's values";
  }

  std::string LastSwitchNote() const {
    if (last_switch_from_ < 0) return "";
    return absl::StrFormat(" (last release() by thread %d; CPU at %s: %s)", last_switch_from_,
                           cpu_.Where(cpu_.pc()), cpu_.Disassemble(cpu_.pc()));
  }

  const Config& config_;
  sim::Simulator& sim_;
  emu::Elf elf_;
  emu::Machine cpu_;
  sim::StreamId choose_, timer_;
  sim::Fiber* fiber_ = nullptr;
  uint32_t switch_ = 0;
  bool switch_is_called_ = false;  // false: inlined everywhere, its entry never executes
  uint32_t release_ = 0, worker_ = 0, handler_ = 0, sigreturn_stub_ = 0;
  uint32_t current_ = 0, threadcount_ = 0, contexts_ = 0, stacks_ = 0, sigblocked_ = 0;
  std::vector<Pending> pending_;
  uint32_t last_ran_[kMaxThreads] = {};
  bool in_handler_[kMaxThreads] = {};
  bool in_ring_[kMaxThreads] = {};
  uint32_t releases_ = 0;
  uint32_t choices_ = 0;
  uint64_t signals_ = 0;
  int last_switch_from_ = -1;
  // Ghost record of the timer signal's mask (see TrackSignalMask).
  struct {
    uint32_t blocked = 1;
    uint32_t pc = 0;  // the instruction that last changed it; 0: its initial value
    int thread = -1;  // whose stack that instruction ran on
    uint64_t instruction = 0;
    bool unblocked_once = false;
  } mask_;
  uint32_t previous_pc_ = 0;
  std::vector<std::pair<uint32_t, uint32_t>> user_code_;  // [begin, end) of each function
  // Timer signals that fell due in a row and could not be delivered (timer-delivered).
  uint32_t undelivered_ = 0;
  uint32_t undelivered_in_user_ = 0;
  uint64_t undelivered_since_ = 0;
  const char* last_undelivered_why_ = "";
  const char* violated_ = "";
  std::string violation_;
};

}  // namespace

sim::Outcome Run(const Config& config, sim::Decider& decider, sim::SimOptions options,
                 const std::function<void(const sim::Simulator&)>& after) {
  SY_CHECK(config.program != nullptr);
  options.cpus = 1;
  // Unicorn's translator and its hooks run on the fiber's stack.
  options.stack_bytes = std::max<size_t>(options.stack_bytes, 1 << 20);
  sim::Simulator simulator(options, decider);
  Model model(config, simulator);
  sim::Outcome outcome = simulator.Run();
  if (after) after(simulator);
  return outcome;
}

uint64_t LastRunInstructions() { return last_run_instructions; }

const std::vector<Bug>& Bugs() {
  static const std::vector<Bug> bugs = {
      {"ebp-epilogue-pops-old-stack",
       "the seed's ebp-only switch without a local, -O0: its epilogue is pop %ebp; ret, so the "
       "stack never moves",
       "ebp-O0-nolocal", false, false},
      {"ebp-omit-frame-pointer",
       "the seed's switch at -O0 -fomit-frame-pointer: no frame-pointer epilogue at all",
       "ebp-O0-omit-fp", false, false},
      {"ebp-switch-inlined",
       "the seed's switch at -O2 (frame pointer omitted): switch_context inlined into release()",
       "ebp-O2", false, false},
      {"ebp-callee-saved-live",
       "the seed's switch at -O2 -fno-omit-frame-pointer, not inlined: the switch works, but "
       "ebx/esi/edi live across release() come back with another thread's values",
       "ebp-O2-fp-noinline", false, false},
      {"frame-off-by-one", "thread_create's fabricated first frame is one word off",
       "bug-frame-off-by-one", false, false},
      {"frame-misaligned",
       "thread_create's fabricated first frame leaves the new thread's stack misaligned",
       "bug-frame-misaligned", false, false},
      {"remove-running",
       "thread_exit unlinks the running thread from the ring, then leaves through release()",
       "bug-remove-running", false, false},
      {"threadcount-not-updated", "thread_exit does not decrement threadcount", "bug-threadcount",
       false, false},
      {"signal-race",
       "the ring is updated with the timer signal unblocked: the handler's release() races it",
       "bug-signal-race", true, false},
      {"release-returns-blocked",
       "release()'s fast path (one thread in the ring) returns with the timer signal still "
       "blocked: the caller runs without preemption until another path unblocks it (shows only "
       "with --preemptive=1, which it does not force; --swarm draws it)",
       "bug-release-returns-blocked", false, true},
  };
  return bugs;
}

std::vector<std::string> InvariantNames() {
  return {"switch-moves-stack",
          "callee-saved-preserved",
          "current-names-active-stack",
          "threadcount-matches-ring",
          "ring-progress",
          "new-thread-entry",
          "thread-self-check",
          "no-cpu-fault",
          "user-code-preemptible (contract, --preemptive=1)",
          "new-thread-preemptible (contract, --preemptive=1)",
          "timer-delivered (liveness, --preemptive=1)"};
}

const Program* FindProgram(std::string_view name) {
  for (const Program& p : AllPrograms()) {
    if (name == p.name) return &p;
  }
  return nullptr;
}

}  // namespace switchyard::ult
