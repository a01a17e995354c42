#include "sim/arena.h"

#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"
#include "sim/instrumentation.h"

namespace switchyard::sim {
namespace {

TEST(Arena, EveryScopeAllocatesAtTheSameOffsets) {
  uintptr_t first[3];
  uintptr_t again[3];
  {
    Arena::Scope scope;
    first[0] = reinterpret_cast<uintptr_t>(Arena::Allocate(24, 8));
    first[1] = reinterpret_cast<uintptr_t>(Arena::Allocate(1, 1));
    first[2] = reinterpret_cast<uintptr_t>(Arena::Allocate(64, 64));
  }
  {
    Arena::Scope scope;
    again[0] = reinterpret_cast<uintptr_t>(Arena::Allocate(24, 8));
    again[1] = reinterpret_cast<uintptr_t>(Arena::Allocate(1, 1));
    again[2] = reinterpret_cast<uintptr_t>(Arena::Allocate(64, 64));
    // 24 bytes and a redzone, 1 byte (8-byte aligned) and a redzone, then 64 bytes aligned to 64
    // and a redzone.
    EXPECT_EQ(Arena::used(), 64 + 64 + Arena::kRedzone);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(first[i], again[i]) << i;
  EXPECT_EQ(first[2] % 64, 0u);
  EXPECT_EQ(first[1], first[0] + 24 + Arena::kRedzone);
}

TEST(Arena, AScopeZeroesWhatTheLastOneUsed) {
  {
    Arena::Scope scope;
    auto* p = static_cast<unsigned char*>(Arena::Allocate(4096, 8));
    std::memset(p, 0xA5, 4096);
  }
  Arena::Scope scope;
  auto* p = static_cast<unsigned char*>(Arena::Allocate(4096, 8));
  for (int i = 0; i < 4096; ++i) ASSERT_EQ(p[i], 0) << i;
}

TEST(Arena, ContainersAllocateFromTheArenaInsideAScopeOnly) {
  ArenaVector<int> outside(100, 7);
  EXPECT_FALSE(Arena::Contains(outside.data()));
  {
    Arena::Scope scope;
    ArenaVector<int> inside(100, 7);
    EXPECT_TRUE(Arena::Contains(inside.data()));
    inside.push_back(8);  // growth: a new block; the old one is not reused in this scope
    EXPECT_EQ(inside.back(), 8);
    int* boxed = ArenaNew<int>(42);
    EXPECT_TRUE(Arena::Contains(boxed));
    ArenaDelete(boxed);
  }
  outside.push_back(8);  // still heap memory, freed by operator delete
  EXPECT_EQ(outside.size(), 101u);
}

TEST(Arena, ClassifyTellsLiveBlocksFromRedzonesAndFreedBlocks) {
  Arena::Scope scope;
  auto* p = static_cast<unsigned char*>(Arena::Allocate(16, 8));
  auto* q = static_cast<unsigned char*>(Arena::Allocate(8, 8));
  EXPECT_EQ(Arena::Classify(p, 16), Arena::State::kLive);
  EXPECT_EQ(Arena::Classify(p + 8, 8), Arena::State::kLive);
  EXPECT_EQ(Arena::Classify(p + 12, 8), Arena::State::kUnallocated);  // runs into the redzone
  EXPECT_EQ(Arena::Classify(p + 16, 4), Arena::State::kUnallocated);
  EXPECT_EQ(Arena::Classify(q + 8, 1), Arena::State::kUnallocated);  // past the last block
  Arena::Deallocate(p, 16, 8);
  EXPECT_EQ(Arena::Classify(p, 4), Arena::State::kFreed);
  EXPECT_EQ(Arena::Classify(q, 8), Arena::State::kLive);
}

TEST(Arena, ArenaMemoryIsOneRegionWhoseCellIdsDoNotDependOnItsAddress) {
  Arena::Scope scope;
  auto* p = static_cast<unsigned char*>(Arena::Allocate(64, 8));
  uint32_t a = 0;
  uint32_t b = 0;
  ASSERT_TRUE(Instrumentation::CellOf(reinterpret_cast<uintptr_t>(p), &a));
  ASSERT_TRUE(Instrumentation::CellOf(reinterpret_cast<uintptr_t>(p + 8), &b));
  EXPECT_EQ(a >> Instrumentation::kGranuleBits, Instrumentation::kArenaRegion);
  EXPECT_EQ(a & ((1u << Instrumentation::kGranuleBits) - 1), 0u);  // the arena's first granule
  EXPECT_EQ(b, a + 1);
  // Forgetting the modules' regions (a module unloaded) keeps the arena.
  Instrumentation::Clear();
  EXPECT_TRUE(Instrumentation::CellOf(reinterpret_cast<uintptr_t>(p), &b));
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace switchyard::sim
