// A tiny piece of instrumented C++ (sim/instrumented.bzl) that reads and writes through a
// pointer, for sim/heap_check_test.cc: its accesses to the heap arena are checked.
#ifndef SWITCHYARD_SIM_TESTING_HEAP_FIXTURE_H_
#define SWITCHYARD_SIM_TESTING_HEAP_FIXTURE_H_

namespace switchyard::sim::testing {

int HeapFixtureRead(const int* p, int i);
void HeapFixtureWrite(int* p, int i, int value);
// One 8-byte store at `p`, which may be unaligned (__tsan_unaligned_write8).
void HeapFixtureWrite8(void* p, unsigned long long value);

}  // namespace switchyard::sim::testing

#endif  // SWITCHYARD_SIM_TESTING_HEAP_FIXTURE_H_
