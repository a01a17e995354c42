#include "sim/testing/heap_fixture.h"

namespace switchyard::sim::testing {

int HeapFixtureRead(const int* p, int i) { return p[i]; }
void HeapFixtureWrite(int* p, int i, int value) { p[i] = value; }
void HeapFixtureWrite8(void* p, unsigned long long value) { __builtin_memcpy(p, &value, 8); }

}  // namespace switchyard::sim::testing
