// Tests of arch/context.h: that switches preserve what the ABI says they must, that many fibers
// keep their own stacks apart, that the failure modes (a returning entry function, a stack
// overflow, a bad switch) stop the process with their one-line messages, and that stacks are
// pooled and guarded.
#include "arch/context.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#if SWITCHYARD_ARCH_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace switchyard::arch {
namespace {

// A small, seedable, platform-independent generator, so the switch order is the same on every
// run and every machine.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

bool Contains(const Stack& stack, const void* address) {
  const auto low = reinterpret_cast<uintptr_t>(stack.base());
  const auto at = reinterpret_cast<uintptr_t>(address);
  return at >= low && at < low + stack.size();
}

// ---- Callee-saved registers ----

#if defined(__x86_64__)

// arch/switch_with_registers_x86_64_sysv_elf_gas.S: loads values[] into rbx, rbp, r12-r15,
// switches with switchyard_jump_context, and stores the registers into observed[] on resumption.
extern "C" void switchyard_test_switch_with_registers(const uint64_t values[6],
                                                      uint64_t observed[6], void** save_sp,
                                                      void* load_sp);

constexpr const char* kRegisterNames[6] = {"rbx", "rbp", "r12", "r13", "r14", "r15"};

struct RegisterTest {
  Context host;
  Context fiber;
  uint64_t host_values[6] = {};
  uint64_t host_observed[6] = {};
  uint64_t fiber_values[6] = {};
  uint64_t fiber_observed[6] = {};
  int fiber_resumptions = 0;
  int fiber_mismatches = 0;
};

void SwitchWithRegisters(const uint64_t* values, uint64_t* observed, Context* from, Context* to) {
  internal::BeginSwitchAnnotation(from, to);
  switchyard_test_switch_with_registers(values, observed, &from->sp, to->sp);
  internal::EndSwitchAnnotation(from);
}

// Puts its own values in every callee-saved register, switches to the host, and on each
// resumption checks that its values came back.
void ClobberingFiber(void* arg) {
  auto* test = static_cast<RegisterTest*>(arg);
  for (;;) {
    SwitchWithRegisters(test->fiber_values, test->fiber_observed, &test->fiber, &test->host);
    ++test->fiber_resumptions;
    if (std::memcmp(test->fiber_values, test->fiber_observed, sizeof(test->fiber_values)) != 0) {
      ++test->fiber_mismatches;
    }
  }
}

TEST(ContextTest, CalleeSavedRegistersSurviveSwitches) {
  // Proves that rbx, rbp and r12-r15 hold the same values after a round trip through a fiber that
  // loaded different values into all of them, in both directions: the host's come back to the
  // host, the fiber's to the fiber. No compiled code runs between loading the registers and the
  // switch, so a compiler's own saves cannot hide a missing one in the assembly.
  RegisterTest test;
  test.host = HostContext("host");
  test.fiber.name = "clobberer";
  for (int i = 0; i < 6; ++i) {
    test.host_values[i] = 0x0101010101010101ULL * static_cast<uint64_t>(i + 1);
    test.fiber_values[i] = ~test.host_values[i];
  }
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  MakeContext(&test.fiber, stack, ClobberingFiber, &test);

  // The first round starts the fiber through the start trampoline; the later ones resume it in
  // the middle of its own register-loaded switch.
  for (int round = 0; round < 3; ++round) {
    std::memset(test.host_observed, 0, sizeof(test.host_observed));
    SwitchWithRegisters(test.host_values, test.host_observed, &test.host, &test.fiber);
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(test.host_observed[i], test.host_values[i])
          << kRegisterNames[i] << " after round " << round << ": got 0x" << std::hex
          << test.host_observed[i] << ", want 0x" << test.host_values[i];
    }
  }
  EXPECT_EQ(test.fiber_resumptions, 2);
  EXPECT_EQ(test.fiber_mismatches, 0);
}

#endif  // defined(__x86_64__)

// ---- The start frame ----

struct StartProbe {
  Context host;
  Context fiber;
  const Stack* stack = nullptr;
  void* arg_seen = nullptr;
  uintptr_t frame_address = 0;
  bool frame_on_fiber_stack = false;
};

void ProbingFiber(void* arg) {
  auto* probe = static_cast<StartProbe*>(arg);
  probe->arg_seen = arg;
  probe->frame_address = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  probe->frame_on_fiber_stack = Contains(*probe->stack, __builtin_frame_address(0));
  for (;;) {
    SwitchContext(&probe->fiber, &probe->host);
  }
}

TEST(ContextTest, FiberStartsOnItsStackWithItsArgumentAndAnAlignedFrame) {
  // Proves that MakeContext's first frame calls entry(arg) with arg intact, on the given stack,
  // with the stack aligned as the ABI requires: with frame pointers, a function's frame address
  // is 16-byte aligned exactly when its caller's stack was at the call.
  StartProbe probe;
  probe.host = HostContext("host");
  probe.fiber.name = "probe";
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  probe.stack = &stack;
  MakeContext(&probe.fiber, stack, ProbingFiber, &probe);
  EXPECT_EQ(probe.fiber.stack_bottom, stack.base());
  EXPECT_EQ(probe.fiber.stack_size, stack.size());
  SwitchContext(&probe.host, &probe.fiber);
  EXPECT_EQ(probe.arg_seen, &probe);
  EXPECT_TRUE(probe.frame_on_fiber_stack);
  EXPECT_EQ(probe.frame_address % 16, 0u) << "frame address 0x" << std::hex << probe.frame_address;
}

TEST(ContextTest, HostContextKnowsItsStack) {
  // Proves that HostContext reports bounds that contain the calling thread's stack, which ASan
  // needs when a fiber switches back to the host. (Frame addresses, not addresses of locals,
  // throughout these tests: with ASan's detect_stack_use_after_return, locals live on the heap.)
  Context host = HostContext("host");
  const auto low = reinterpret_cast<uintptr_t>(host.stack_bottom);
  const auto at = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  EXPECT_GE(at, low);
  EXPECT_LT(at, low + host.stack_size);
  EXPECT_EQ(host.sp, nullptr);
  EXPECT_STREQ(host.name, "host");
}

#if SWITCHYARD_ARCH_ASAN

struct HoldingFiber {
  Context host;
  Context fiber;
};

// Allocates a block that only its own frame points to, parks, and frees the block when resumed.
void HoldingEntry(void* arg) {
  auto* holding = static_cast<HoldingFiber*>(arg);
  int* volatile only_reference = new int[64]();
  SwitchContext(&holding->fiber, &holding->host);
  delete[] only_reference;
  for (;;) {
    SwitchContext(&holding->fiber, &holding->host);
  }
}

TEST(ContextTest, HeapHeldByAParkedFiberIsNotALeak) {
  // Proves that LeakSanitizer scans a parked fiber's stack: without Stack registering itself as a
  // root region, a block referenced only from a parked fiber's frame is reported as leaked.
  HoldingFiber holding;
  holding.host = HostContext("host");
  holding.fiber.name = "holder";
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  MakeContext(&holding.fiber, stack, HoldingEntry, &holding);
  SwitchContext(&holding.host, &holding.fiber);
  EXPECT_EQ(__lsan_do_recoverable_leak_check(), 0);
  SwitchContext(&holding.host, &holding.fiber);  // frees the block
}

#endif  // SWITCHYARD_ARCH_ASAN

// ---- Many fibers ----

constexpr int kCrowdFibers = 2000;
constexpr int kCrowdRuns = 200000;
constexpr uint64_t kCrowdSeed = 0x5eed5eed12345678ULL;

struct Crowd;

struct CrowdFiber {
  Crowd* crowd = nullptr;
  int index = 0;
  Context context;
  Stack stack;
  int64_t runs = 0;
};

struct Crowd {
  Context host;
  std::vector<std::unique_ptr<CrowdFiber>> fibers;
  uint64_t rng = kCrowdSeed;
  int64_t runs_left = kCrowdRuns;
  int64_t errors = 0;
};

uint64_t CanaryFor(int index) { return 0xc0ffee0000000000ULL ^ static_cast<uint64_t>(index); }

// Runs once per pick: counts the run, checks that it is still on its own stack with its own
// locals, and hands over to a fiber the generator picks (itself included), or to the host when
// all runs are done.
void CrowdEntry(void* arg) {
  auto* self = static_cast<CrowdFiber*>(arg);
  Crowd* crowd = self->crowd;
  // Locals live in this fiber's frame across every switch. Resumed on the wrong stack or frame,
  // they would not match the fiber's record.
  volatile uint64_t canary = CanaryFor(self->index);
  int64_t runs_seen_here = 0;
  for (;;) {
    ++runs_seen_here;
    ++self->runs;
    if (canary != CanaryFor(self->index)) {
      ++crowd->errors;
    }
    if (runs_seen_here != self->runs) {
      ++crowd->errors;
    }
    if (!Contains(self->stack, __builtin_frame_address(0))) {
      ++crowd->errors;
    }
    Context* next = &crowd->host;
    if (crowd->runs_left > 0) {
      --crowd->runs_left;
      next = &crowd->fibers[SplitMix64(&crowd->rng) % kCrowdFibers]->context;
    }
    if (next != &self->context) {
      SwitchContext(&self->context, next);
    }
  }
}

TEST(ContextTest, ThousandsOfFibersSwitchInRandomOrder) {
  // Proves that 2000 fibers switching directly among each other, in an order drawn from a fixed
  // seed, each resume on their own stack with their own locals, and that every resumption the
  // order asked for happened: the per-fiber run counts equal a replay of the same draws.
  Crowd crowd;
  crowd.host = HostContext("host");
  std::vector<std::string> names;
  names.reserve(kCrowdFibers);
  for (int i = 0; i < kCrowdFibers; ++i) {
    names.push_back("crowd-" + std::to_string(i));
    auto fiber = std::make_unique<CrowdFiber>();
    fiber->crowd = &crowd;
    fiber->index = i;
    fiber->context.name = names.back().c_str();
    fiber->stack = Stack::Allocate(kDefaultStackBytes);
    MakeContext(&fiber->context, fiber->stack, CrowdEntry, fiber.get());
    crowd.fibers.push_back(std::move(fiber));
  }

  // Replay the draws: the host's first pick, then one per run while runs are left.
  std::vector<int64_t> expected(kCrowdFibers, 0);
  uint64_t replay = kCrowdSeed;
  for (int64_t draw = 0; draw <= kCrowdRuns; ++draw) {
    ++expected[SplitMix64(&replay) % kCrowdFibers];
  }

  SwitchContext(&crowd.host, &crowd.fibers[SplitMix64(&crowd.rng) % kCrowdFibers]->context);

  EXPECT_EQ(crowd.runs_left, 0);
  EXPECT_EQ(crowd.errors, 0);
  int64_t total = 0;
  int never_ran = 0;
  for (int i = 0; i < kCrowdFibers; ++i) {
    EXPECT_EQ(crowd.fibers[i]->runs, expected[i]) << "fiber " << i;
    total += crowd.fibers[i]->runs;
    never_ran += crowd.fibers[i]->runs == 0 ? 1 : 0;
  }
  EXPECT_EQ(total, kCrowdRuns + 1);
  EXPECT_EQ(never_ran, 0) << "the seed should reach every fiber";
}

// ---- Failure modes ----

void ReturningEntry(void* /*arg*/) {}

TEST(ContextDeathTest, ReturningEntryStopsTheProcessWithItsMessage) {
  // Proves that a fiber whose entry function returns stops the process with the one-line message
  // naming it, instead of jumping to whatever lies above its first frame.
  EXPECT_DEATH(
      {
        Context host = HostContext("host");
        Context fiber;
        fiber.name = "returner";
        Stack stack = Stack::Allocate(kDefaultStackBytes);
        MakeContext(&fiber, stack, ReturningEntry, nullptr);
        SwitchContext(&host, &fiber);
      },
      "switchyard: fiber 'returner' returned from its entry function; fiber entry functions "
      "must never return");
}

// A bound the compiler cannot see through, so the recursion is not "infinite" to it.
volatile int recursion_limit = 1 << 30;

int Recurse(int depth) {
  volatile char frame[256];
  frame[0] = static_cast<char>(depth);
  if (depth >= recursion_limit) {
    return 0;
  }
  return Recurse(depth + 1) + frame[0];  // not a tail call: the frame stays
}

void OverflowingEntry(void* /*arg*/) {
  Recurse(0);
  std::abort();  // unreachable: the recursion overflows first
}

TEST(ContextDeathTest, StackOverflowIsReportedWithTheFiberName) {
  // Proves that unbounded recursion on a fiber hits the guard region and prints the one-line
  // overflow message naming the fiber and its stack size, instead of corrupting memory below the
  // stack or dying silently. The same message under ASan: ASan lets a program replace its SIGSEGV
  // handler (allow_user_segv_handler defaults to 1), so ours runs, not ASan's stack-overflow
  // report; checked rather than assumed, hence one regex for every configuration.
  const std::string message = "switchyard: stack overflow in fiber 'deep' \\(" +
                              std::to_string(kDefaultStackBytes / 1024) +
                              " KiB stack\\); give it a larger stack";
  EXPECT_DEATH(
      {
        Context host = HostContext("host");
        Context fiber;
        fiber.name = "deep";
        Stack stack = Stack::Allocate(kDefaultStackBytes);
        MakeContext(&fiber, stack, OverflowingEntry, nullptr);
        SwitchContext(&host, &fiber);
      },
      message);
}

TEST(ContextDeathTest, SwitchingToItselfStops) {
  // Proves that SwitchContext(c, c), which would resume a stale frame, stops with a message.
  EXPECT_DEATH(
      {
        Context other;
        Stack stack = Stack::Allocate(kDefaultStackBytes);
        MakeContext(&other, stack, ReturningEntry, nullptr);
        other.name = "loop";
        SwitchContext(&other, &other);
      },
      "switchyard: SwitchContext from fiber 'loop' to itself");
}

TEST(ContextDeathTest, SwitchingToAnUnmadeContextStops) {
  // Proves that switching to a context with no saved stack pointer (never made, never left)
  // stops with a message naming it instead of jumping to address 0.
  EXPECT_DEATH(
      {
        Context host = HostContext("host");
        Context ghost;
        ghost.name = "ghost";
        SwitchContext(&host, &ghost);
      },
      "switchyard: SwitchContext from fiber 'host' to fiber 'ghost', which was neither made");
}

TEST(ContextDeathTest, MakeContextOnAnEmptyStackStops) {
  // Proves that MakeContext checks its stack before writing a frame into nowhere.
  EXPECT_DEATH(
      {
        Context fiber;
        fiber.name = "homeless";
        Stack empty;
        MakeContext(&fiber, empty, ReturningEntry, nullptr);
      },
      "switchyard: MakeContext for fiber 'homeless': the stack is empty");
}

// ---- Stacks ----

size_t PageBytes() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

TEST(StackTest, SizesRoundUpToPages) {
  // Proves that Allocate rounds the usable size up to whole pages and returns a page-aligned
  // base, which MakeContext's alignment depends on.
  Stack stack = Stack::Allocate(3 * PageBytes() + 1);
  EXPECT_FALSE(stack.empty());
  EXPECT_EQ(stack.size(), 4 * PageBytes());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(stack.base()) % PageBytes(), 0u);
}

TEST(StackTest, FreedStacksAreReused) {
  // Proves the pool: a destroyed stack's memory is what the next Allocate of the same size gets,
  // and a stack in use is never handed out twice.
  const size_t bytes = 7 * PageBytes();  // a size no other test uses
  void* first_base = nullptr;
  {
    Stack first = Stack::Allocate(bytes);
    first_base = first.base();
  }
  Stack again = Stack::Allocate(bytes);
  EXPECT_EQ(again.base(), first_base);
  Stack another = Stack::Allocate(bytes);
  EXPECT_NE(another.base(), first_base);
}

TEST(StackTest, MovesTransferOwnership) {
  // Proves that a moved-from Stack is empty and that move-assignment returns the overwritten
  // stack to the pool.
  const size_t bytes = 9 * PageBytes();  // a size no other test uses
  Stack a = Stack::Allocate(bytes);
  void* a_base = a.base();
  Stack b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(a.base(), nullptr);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.base(), a_base);
  b = Stack::Allocate(bytes);  // a_base goes back to the pool
  EXPECT_NE(b.base(), a_base);
  Stack c = Stack::Allocate(bytes);
  EXPECT_EQ(c.base(), a_base);
}

TEST(StackDeathTest, UnmappableSizeStopsWithAMessage) {
  // Proves that a stack the kernel cannot map stops the process with one line saying so, rather
  // than returning an unusable Stack.
  EXPECT_DEATH(Stack::Allocate(size_t{1} << 62),
               "switchyard: cannot mmap for a [0-9]+ KiB fiber stack: ");
}

// The permissions column of the /proc/self/maps line holding `address`, and that line's range.
std::string MappingPermissions(uintptr_t address, uintptr_t* begin, uintptr_t* end) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    std::istringstream fields(line);
    std::string range;
    std::string permissions;
    fields >> range >> permissions;
    const size_t dash = range.find('-');
    const uintptr_t low = std::stoull(range.substr(0, dash), nullptr, 16);
    const uintptr_t high = std::stoull(range.substr(dash + 1), nullptr, 16);
    if (address >= low && address < high) {
      *begin = low;
      *end = high;
      return permissions;
    }
  }
  return "";
}

void TouchByte(char* address) { *static_cast<volatile char*>(address) = 1; }

TEST(StackDeathTest, GuardRegionLiesBelowBase) {
  // Proves that the kStackGuardBytes below base() are mapped PROT_NONE (read from the kernel's
  // own view, /proc/self/maps) and that touching the byte just below base() kills the process.
  Stack stack = Stack::Allocate(kDefaultStackBytes);
  const auto base = reinterpret_cast<uintptr_t>(stack.base());
  uintptr_t begin = 0;
  uintptr_t end = 0;
  EXPECT_EQ(MappingPermissions(base - 1, &begin, &end).substr(0, 3), "---");
  EXPECT_LE(begin, base - kStackGuardBytes);
  EXPECT_EQ(end, base);
  EXPECT_EQ(MappingPermissions(base, &begin, &end).substr(0, 2), "rw");
  EXPECT_DEATH(TouchByte(static_cast<char*>(stack.base()) - 1), "");
}

}  // namespace
}  // namespace switchyard::arch
