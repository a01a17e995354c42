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
  EXPECT_EQ(RandomHash(Racy(2, 0), 1), 0x5663dd3b1f21b5c2ull);
  EXPECT_EQ(RandomHash(Racy(4, 5), 2), 0xb0e067dae62b4080ull);
  EXPECT_EQ(RandomHash(Locked(3), 3), 0x3c48de1839d2b87bull);
  EXPECT_EQ(PctHash(Locked(4), 4), 0x768b78b94ecbf348ull);
}

}  // namespace
}  // namespace switchyard::sim
