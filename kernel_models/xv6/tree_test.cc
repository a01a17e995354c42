// Proves the xv6 platform on switchyard's own xv6-compatible tree (kernel_models/xv6/builtin),
// compiled at test time exactly as a user's tree is: it runs clean under random and PCT
// schedules on two and three CPUs; its planted bugs are found (a CPU naming a process that runs
// elsewhere, by cpu-proc-agrees; a lock kept by forkret, as the tree's own panic); runs are
// reset and deterministic; and bad trees are clear errors (not a tree, a compiler error as the
// compiler printed it, a function nobody defines), never a crash.
#include "kernel_models/xv6/tree.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "gtest/gtest.h"

namespace switchyard::xv6 {
namespace {

std::string Cache() { return std::string(std::getenv("TEST_TMPDIR")) + "/cache"; }

const LoadedTree& OwnTree() {
  static const LoadedTree* tree = [] {
    auto built = BuildTree("kernel_models/xv6/builtin", Cache(), nullptr);
    EXPECT_TRUE(built.ok()) << built.status();
    auto loaded = LoadedTree::Load(*built);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded->release();
  }();
  return *tree;
}

sim::Outcome RunTree(uint64_t seed, int cpus, int bug = 0, int pct_depth = 0) {
  std::unique_ptr<sim::Decider> decider;
  if (pct_depth > 0) {
    decider = std::make_unique<sim::PctDecider>(seed, pct_depth, 60'000, cpus);
  } else {
    decider = std::make_unique<sim::RandomDecider>(seed);
  }
  sim::SimOptions options;
  options.max_steps = 20'000'000;
  return OwnTree().Run({.cpus = cpus, .planted_bug = bug}, *decider, options);
}

TEST(TreeTest, OwnTreeRunsCleanUnderRandomAndPctSchedules) {
  ASSERT_TRUE(OwnTree().has_planted_bugs());
  for (uint64_t seed = 0; seed < 60; ++seed) {
    for (int cpus : {2, 3}) {
      sim::Outcome out = RunTree(seed, cpus, 0, seed % 2 == 0 ? 0 : 10);
      ASSERT_EQ(out.kind, sim::Outcome::Kind::kPass)
          << "seed " << seed << " cpus " << cpus << ": " << out.invariant << ": " << out.message;
      EXPECT_GT(out.switches, 10u);
      EXPECT_GT(out.interrupts, 0u);
    }
  }
}

TEST(TreeTest, SchedulerKeepingCProcIsFound) {
  int found = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    sim::Outcome out = RunTree(seed, 2, /*scheduler-keeps-c-proc*/ 1);
    if (out.kind == sim::Outcome::Kind::kSafety) {
      EXPECT_EQ(out.invariant, "cpu-proc-agrees") << out.message;
      ++found;
    }
  }
  EXPECT_GE(found, 15);
}

TEST(TreeTest, ForkretKeepingTheLockIsTheTreesOwnPanic) {
  sim::Outcome out = RunTree(0, 2, /*forkret-keeps-lock*/ 2);
  ASSERT_EQ(out.kind, sim::Outcome::Kind::kSafety);
  EXPECT_EQ(out.invariant, "panic");
  // acquire() finds the lock already held by this CPU; the message names the panic's site.
  EXPECT_EQ(out.message.rfind("acquire (at kernel.so+0x", 0), 0u) << out.message;
}

TEST(TreeTest, RunsAreResetAndDeterministic) {
  sim::Outcome first = RunTree(11, 2);
  for (uint64_t seed = 100; seed < 300; ++seed) RunTree(seed, 2, seed % 3 == 0 ? 1 : 0);
  sim::Outcome again = RunTree(11, 2);
  EXPECT_EQ(first.trace_hash, again.trace_hash);
  EXPECT_EQ(first.step, again.step);
  EXPECT_EQ(first.kind, sim::Outcome::Kind::kPass);
}

TEST(TreeTest, ACachedTreeIsNotCompiledAgain) {
  OwnTree();
  auto built = BuildTree("kernel_models/xv6/builtin", Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_TRUE(built->cached);
  EXPECT_EQ(built->fingerprint, OwnTree().built().fingerprint);
}

// A copy of the own tree in the test's temporary directory, with one file changed.
std::string BrokenTree(const std::string& name, const std::string& file,
                       const std::string& appended) {
  const std::string root = std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
  const std::string command = "rm -rf " + root + " && mkdir -p " + root +
                              " && cp -rL kernel_models/xv6/builtin/kernel " + root + "/";
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::ofstream(root + "/kernel/" + file, std::ios::app) << appended;
  return root;
}

TEST(TreeTest, BadTreesAreClearErrors) {
  auto not_a_tree = BuildTree("kernel_models/xv6", Cache(), nullptr);
  ASSERT_FALSE(not_a_tree.ok());
  EXPECT_NE(not_a_tree.status().message().find("is not an xv6-riscv tree: it has no kernel/proc.c"),
            std::string::npos)
      << not_a_tree.status();

  auto missing = BuildTree("/no/such/tree", Cache(), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--kernel=/no/such/tree: "), std::string::npos);

  const std::string broken = BrokenTree("syntax", "proc.c", "\nint broken(void) { return }\n");
  auto does_not_compile = BuildTree(broken, Cache(), nullptr);
  ASSERT_FALSE(does_not_compile.ok());
  // The compiler's own message, naming the user's file.
  EXPECT_NE(does_not_compile.status().message().find(broken + "/kernel/proc.c:"), std::string::npos)
      << does_not_compile.status();
  EXPECT_NE(does_not_compile.status().message().find("error:"), std::string::npos);

  const std::string needs = BrokenTree(
      "undefined", "sysproc.c", "\nvoid lab_helper(void);\nvoid call_it(void) { lab_helper(); }\n");
  auto undefined = BuildTree(needs, Cache(), nullptr);
  ASSERT_FALSE(undefined.ok());
  EXPECT_NE(undefined.status().message().find("`lab_helper` (needed by sysproc.c)"),
            std::string::npos)
      << undefined.status();
}

TEST(TreeTest, SystemCallsOfFilesThatAreNotCompiledFail) {
  // A lab's extra system call, implemented in a file the platform does not compile: the tree
  // builds, and the call returns -1.
  const std::string lab = BrokenTree("lab", "sysproc.c",
                                     "\nextern uint64 sys_trace(void);\n"
                                     "uint64 (*keep_trace)(void) = sys_trace;\n");
  auto built = BuildTree(lab, Cache(), nullptr);
  ASSERT_TRUE(built.ok()) << built.status();
}

}  // namespace
}  // namespace switchyard::xv6
