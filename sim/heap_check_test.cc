// Instrumented code's accesses to the models' heap arena (sim/arena.h) are checked: past the end
// of a block is "heap-buffer-overflow", in a freed block (a vector's storage after it grew) is
// "heap-use-after-free", each a violation naming the code; inside a live block is a point.
#include <string>

#include "gtest/gtest.h"
#include "sim/arena.h"
#include "sim/simulator.h"
#include "sim/testing/heap_fixture.h"

namespace switchyard::sim {
namespace {

class Body : public Machine {
 public:
  explicit Body(void (*body)()) : body_(body) {}
  void Trap(int, int) override {}
  std::string DescribeStuck() override { return "heap fixture"; }
  static void Boot(void* arg) {
    static_cast<Body*>(arg)->body_();
    static_cast<Body*>(arg)->sim->Finish();
  }
  Simulator* sim = nullptr;

 private:
  void (*body_)();
};

Outcome RunBody(void (*body)()) {
  RandomDecider decider(1);
  SimOptions options;
  options.cpus = 1;
  Simulator sim(options, decider);
  Arena::Scope heap;
  Body machine(body);
  machine.sim = &sim;
  sim.SetMachine(&machine);
  sim.SetBootFiber(0, sim.CreateFiber("boot", &Body::Boot, &machine));
  return sim.Run();
}

TEST(HeapCheck, AccessesInsideALiveBlockArePoints) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    testing::HeapFixtureWrite(v->data(), 3, 8);
    if (testing::HeapFixtureRead(v->data(), 3) != 8) std::abort();
  });
  EXPECT_EQ(o.kind, Outcome::Kind::kPass) << o.invariant << ": " << o.message;
  EXPECT_GE(o.step, 2u);
}

TEST(HeapCheck, ReadingPastTheEndOfABlockIsAHeapBufferOverflow) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    testing::HeapFixtureRead(v->data(), 4);
  });
  EXPECT_EQ(o.invariant, "heap-buffer-overflow");
  EXPECT_NE(o.message.find("HeapFixtureRead"), std::string::npos) << o.message;
  EXPECT_NE(o.message.find("reads 4 bytes"), std::string::npos) << o.message;
}

TEST(HeapCheck, WritingThroughAVectorsOldStorageIsAHeapUseAfterFree) {
  const Outcome o = RunBody([] {
    auto* v = ArenaNew<ArenaVector<int>>(4, 7);
    int* old = v->data();
    v->resize(64);  // new storage; the old block is freed
    testing::HeapFixtureWrite(old, 0, 1);
  });
  EXPECT_EQ(o.invariant, "heap-use-after-free");
  EXPECT_NE(o.message.find("HeapFixtureWrite"), std::string::npos) << o.message;
}

}  // namespace
}  // namespace switchyard::sim
