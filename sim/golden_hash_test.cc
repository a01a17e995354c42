// Golden trace hashes of fixed toy scenarios. The same scenario must give the same hash in every
// build: default, -O0 (--config=o0), -O2 (--config=opt), AddressSanitizer (--config=asan). CI
// runs this test under each. A change that alters a hash on purpose (a new event in the trace)
// must update the constants here and say why in its commit.
#include "gtest/gtest.h"
#include "sim/simulator.h"
#include "sim/testing/toy_model.h"

namespace switchyard::sim {
namespace {

using testing::RunToy;
using testing::ToyOptions;

uint64_t RandomHash(ToyOptions options, uint64_t seed) {
  RandomDecider d(seed);
  return RunToy(options, d).trace_hash;
}

uint64_t PctHash(ToyOptions options, uint64_t seed) {
  PctDecider d(seed, 3, 100, options.cpus);
  return RunToy(options, d).trace_hash;
}

ToyOptions Racy(int cpus, uint64_t timer_period) {
  ToyOptions o;
  o.cpus = cpus;
  o.racy = true;
  o.timer_period = timer_period;
  return o;
}

ToyOptions Locked(int cpus) {
  ToyOptions o;
  o.cpus = cpus;
  o.timer_period = 9;
  return o;
}

TEST(GoldenHash, FixedScenarios) {
  EXPECT_EQ(RandomHash(Racy(2, 0), 1), 0x04fd8d46a1ed0de7ull);
  EXPECT_EQ(RandomHash(Racy(4, 5), 2), 0x9d23e34d33a80793ull);
  EXPECT_EQ(RandomHash(Locked(3), 3), 0xaf1e1c20211e8f36ull);
  EXPECT_EQ(PctHash(Locked(4), 4), 0x8212b2c5343fb9b6ull);
}

}  // namespace
}  // namespace switchyard::sim
