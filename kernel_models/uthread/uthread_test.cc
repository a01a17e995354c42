// The fixture passes on both architectures; each planted bug is caught under the expected
// invariant with a message naming what broke; a program built at run time from a directory
// works like a built-in one; bad directories are one clear error; runs are deterministic.
#include "kernel_models/uthread/uthread.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "kernel_models/uthread/program.h"

namespace switchyard::uthread {
namespace {

sim::Outcome RunSeed(const Program& program, uint64_t seed, uint32_t extra_yields = 1) {
  Config config;
  config.program = &program;
  config.extra_yields = extra_yields;
  sim::RandomDecider decider(seed);
  return Run(config, decider, sim::SimOptions{}, nullptr);
}

TEST(UthreadTest, FixturePasses) {
  for (Arch arch : {Arch::kRiscv64, Arch::kI386}) {
    const Program* p = FindFixture(arch, "");
    ASSERT_NE(p, nullptr);
    for (uint64_t seed = 0; seed < 40; ++seed) {
      sim::Outcome o = RunSeed(*p, seed);
      EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass)
          << p->name << " seed " << seed << ": " << o.invariant << ": " << o.message;
      // Three threads, a hundred yields each: every yield of a thread is a switch.
      EXPECT_GE(LastRunSwitches(), 300u) << p->name;
      EXPECT_EQ(LastRunReference(), ReferenceResult::kCompared) << p->name;
    }
  }
}

TEST(UthreadTest, EveryPlantedBugIsCaught) {
  struct Expected {
    Arch arch;
    const char* bug;
    const char* invariant;
    const char* says;  // a piece of the message
  };
  const Expected expected[] = {
      {Arch::kRiscv64, "register-not-saved", "callee-saved-preserved", "s5="},
      {Arch::kRiscv64, "wrong-offset", "callee-saved-preserved", "s3="},
      {Arch::kRiscv64, "sp-at-stack-bottom", "suspended-state-unchanged", "saved context"},
      {Arch::kRiscv64, "sp-one-byte-off", "thread-entry", "sp % 8 == 0"},
      {Arch::kRiscv64, "ra-not-set", "thread-entry", "no return address"},
      {Arch::kRiscv64, "picks-current-again", "yield-lets-others-run", "RUNNABLE"},
      {Arch::kRiscv64, "resumes-finished-thread", "finished-thread-resumed", "marked itself FREE"},
      {Arch::kI386, "register-not-saved", "callee-saved-preserved", "ebx="},
      {Arch::kI386, "wrong-offset", "callee-saved-preserved", "esi="},
      {Arch::kI386, "sp-at-stack-bottom", "thread-entry", "is not a started thread's"},
      {Arch::kI386, "sp-one-byte-off", "misaligned-access", "uthread.c:"},
      {Arch::kI386, "ra-not-set", "thread-entry", "no return address"},
      {Arch::kI386, "picks-current-again", "yield-lets-others-run", "RUNNABLE"},
      {Arch::kI386, "resumes-finished-thread", "finished-thread-resumed", "marked itself FREE"},
  };
  ASSERT_EQ(std::size(expected), 2 * Bugs().size());
  for (const Expected& e : expected) {
    const Program* p = FindFixture(e.arch, e.bug);
    ASSERT_NE(p, nullptr) << e.bug;
    sim::Outcome o = RunSeed(*p, 1);
    EXPECT_EQ(o.kind, sim::Outcome::Kind::kSafety) << p->name << ": " << o.message;
    EXPECT_EQ(o.invariant, e.invariant) << p->name << ": " << o.message;
    EXPECT_NE(o.message.find(e.says), std::string::npos) << p->name << ": " << o.message;
  }
}

TEST(UthreadTest, ReportsNameTheSourceLine) {
  const Program* p = FindFixture(Arch::kRiscv64, "sp-at-stack-bottom");
  sim::Outcome o = RunSeed(*p, 1);
  EXPECT_NE(o.message.find("uthread.c:"), std::string::npos) << o.message;
}

TEST(UthreadTest, ExtraYieldsChangeTheInterleavingNotTheResult) {
  const Program* p = FindFixture(Arch::kRiscv64, "");
  uint64_t none = 0, some = 0;
  ASSERT_EQ(RunSeed(*p, 3, 0).kind, sim::Outcome::Kind::kPass);
  none = LastRunSwitches();
  ASSERT_EQ(RunSeed(*p, 3, 2).kind, sim::Outcome::Kind::kPass);
  some = LastRunSwitches();
  EXPECT_GT(some, none);
}

TEST(UthreadTest, RunsAreDeterministic) {
  const Program* p = FindFixture(Arch::kI386, "");
  for (uint64_t seed : {5u, 6u}) {
    sim::RandomDecider a(seed), b(seed);
    Config config;
    config.program = p;
    sim::Outcome x = uthread::Run(config, a, sim::SimOptions{}, nullptr);
    uint64_t instructions = LastRunInstructions();
    sim::Outcome y = uthread::Run(config, b, sim::SimOptions{}, nullptr);
    EXPECT_EQ(x.trace_hash, y.trace_hash);
    EXPECT_EQ(instructions, LastRunInstructions());
  }
}

// A correct RISC-V thread_switch for the programs the tests write (struct ctx: ra, sp, s0-s11).
const char kSwitchS[] = R"(	.globl thread_switch
thread_switch:
	sd ra, 0(a0)
	sd sp, 8(a0)
	sd s0, 16(a0)
	sd s1, 24(a0)
	sd s2, 32(a0)
	sd s3, 40(a0)
	sd s4, 48(a0)
	sd s5, 56(a0)
	sd s6, 64(a0)
	sd s7, 72(a0)
	sd s8, 80(a0)
	sd s9, 88(a0)
	sd s10, 96(a0)
	sd s11, 104(a0)
	ld ra, 0(a1)
	ld sp, 8(a1)
	ld s0, 16(a1)
	ld s1, 24(a1)
	ld s2, 32(a1)
	ld s3, 40(a1)
	ld s4, 48(a1)
	ld s5, 56(a1)
	ld s6, 64(a1)
	ld s7, 72(a1)
	ld s8, 80(a1)
	ld s9, 88(a1)
	ld s10, 96(a1)
	ld s11, 104(a1)
	ret
)";

std::string MakeDir(const std::string& name) {
  std::string dir = std::string(getenv("TEST_TMPDIR")) + "/" + name;
  std::system(("rm -rf '" + dir + "' && mkdir -p '" + dir + "/user'").c_str());
  return dir;
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(UthreadTest, BadDirectoriesAreOneClearError) {
  absl::StatusOr<const Program*> p = BuildProgram("/nonexistent-switchyard-dir", Arch::kRiscv64);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("no such directory"), std::string::npos);

  std::string empty = MakeDir("empty");
  p = BuildProgram(empty, Arch::kRiscv64);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("is not a threads program"), std::string::npos);

  std::string broken = MakeDir("broken");
  Write(broken + "/user/uthread.c", "int main(void) { return undeclared; }\n");
  Write(broken + "/user/uthread_switch.S", ".globl thread_switch\nthread_switch:\n ret\n");
  p = BuildProgram(broken, Arch::kRiscv64);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("does not compile"), std::string::npos);
  EXPECT_NE(p.status().message().find("undeclared"), std::string::npos) << p.status();

  std::string forks = MakeDir("forks");
  Write(forks + "/user/uthread.c",
        "int fork(void);\nvoid thread_switch(void*, void*);\n"
        "int main(void) { fork(); return 0; }\n");
  Write(forks + "/user/uthread_switch.S", ".globl thread_switch\nthread_switch:\n ret\n");
  p = BuildProgram(forks, Arch::kRiscv64);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("calls fork()"), std::string::npos) << p.status();
}

// A program written outside the lab's shape (no all_thread) builds from a directory, runs, and
// says which checks it skips; its source lines name the directory's own file.
TEST(UthreadTest, ProgramFromADirectory) {
  std::string dir = MakeDir("plain");
  Write(dir + "/threads.c", R"(#include "kernel/types.h"
#include "user/user.h"
struct ctx { uint64 ra, sp, s[12]; };
void thread_switch(struct ctx* from, struct ctx* to);
static struct ctx main_ctx, worker_ctx;
static char stack[4096] __attribute__((aligned(16)));
int steps;
void thread_yield(void) {}
static void worker(void) {
  for (;;) { steps++; thread_switch(&worker_ctx, &main_ctx); }
}
int main(void) {
  worker_ctx.ra = (uint64)worker;
  worker_ctx.sp = (uint64)(stack + sizeof stack);
  for (int i = 0; i < 10; i++) thread_switch(&main_ctx, &worker_ctx);
  printf("steps %d\n", steps);
  exit(steps == 10 ? 0 : 1);
}
)");
  Write(dir + "/switch.S", kSwitchS);
  absl::StatusOr<const Program*> p = BuildProgram(dir, Arch::kRiscv64);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->switch_symbol, "thread_switch");
  EXPECT_EQ((*p)->yield_symbol, "thread_yield");
  EXPECT_NE((*p)->skipped.find("current-thread-runs"), std::string::npos);
  sim::Outcome o = RunSeed(**p, 1);
  EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_EQ(LastRunSwitches(), 20u);
  EXPECT_EQ(LastRunReference(), ReferenceResult::kCompared);

  // The same program with a switch that also clears a global the program counts in: every
  // register survives, so only the output tells.
  std::string clobbers = MakeDir("clobbers");
  std::ifstream in(dir + "/threads.c");
  std::stringstream text;
  text << in.rdbuf();
  Write(clobbers + "/threads.c", text.str());
  std::ifstream in_s(dir + "/switch.S");
  std::stringstream s;
  s << in_s.rdbuf();
  std::string routine = s.str();
  routine.replace(routine.find("\tret\n"), 5, "\tla t0, steps\n\tsw zero, 0(t0)\n\tret\n");
  Write(clobbers + "/switch.S", routine);
  p = BuildProgram(clobbers, Arch::kRiscv64);
  ASSERT_TRUE(p.ok()) << p.status();
  o = RunSeed(**p, 1);
  EXPECT_EQ(o.invariant, "output-matches-reference") << o.message;
  EXPECT_NE(o.message.find("steps 0"), std::string::npos) << o.message;
}

// xv6's alarm: a handler that returns with sigreturn() preempts the program at decider-chosen
// instructions and the program goes on where it was; one that switches threads without
// sigreturn leaves the timer masked for the thread it switched to (timer-delivered).
const char kPreemptiveC[] = R"(#include "kernel/types.h"
#include "user/user.h"
struct ctx { uint64 ra, sp, s[12]; };
void thread_switch(struct ctx* from, struct ctx* to);
struct ctx ctxs[2];
static char stack[4096] __attribute__((aligned(16)));
int current;
volatile long work[2];
volatile int alarms;
void thread_yield(void) {}
static void worker(void) {
  for (;;) work[1]++;
}
void handler(void) {
  alarms++;
#ifdef SWITCH_IN_HANDLER
  int from = current;
  current = 1 - current;
  thread_switch(&ctxs[from], &ctxs[current]);
#endif
  sigreturn();
}
int main(void) {
  ctxs[1].ra = (uint64)worker;
  ctxs[1].sp = (uint64)(stack + sizeof stack);
  sigalarm(1, handler);
  long sum = 0;
  for (long i = 0; i < 20000; i++) { sum += i; work[0]++; }
  printf("sum %d alarms %d\n", (int)sum, alarms);
  exit(sum == 199990000 && work[0] == 20000 ? 0 : 1);
}
)";

TEST(UthreadTest, AlarmPreemptsAndSigreturnResumes) {
  std::string dir = MakeDir("alarm");
  Write(dir + "/threads.c", kPreemptiveC);
  Write(dir + "/switch.S", kSwitchS);
  absl::StatusOr<const Program*> p = BuildProgram(dir, Arch::kRiscv64);
  ASSERT_TRUE(p.ok()) << p.status();
  for (uint64_t seed = 0; seed < 5; ++seed) {
    sim::Outcome o = RunSeed(**p, seed);
    EXPECT_EQ(o.kind, sim::Outcome::Kind::kPass) << o.invariant << ": " << o.message;
    EXPECT_GE(LastRunAlarms(), 20u);
  }
}

TEST(UthreadTest, AHandlerThatSwitchesAwayIsPreemptionLost) {
  std::string dir = MakeDir("alarm_switch");
  Write(dir + "/threads.c", std::string("#define SWITCH_IN_HANDLER\n") + kPreemptiveC);
  Write(dir + "/switch.S", kSwitchS);
  absl::StatusOr<const Program*> p = BuildProgram(dir, Arch::kRiscv64);
  ASSERT_TRUE(p.ok()) << p.status();
  sim::Outcome o = RunSeed(**p, 1);
  EXPECT_EQ(o.kind, sim::Outcome::Kind::kLiveness) << o.invariant << ": " << o.message;
  EXPECT_EQ(o.invariant, "timer-delivered") << o.message;
  EXPECT_NE(o.message.find("has not called sigreturn"), std::string::npos) << o.message;
}

}  // namespace
}  // namespace switchyard::uthread
