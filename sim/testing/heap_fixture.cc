#include "sim/testing/heap_fixture.h"

namespace switchyard::sim::testing {

int HeapFixtureRead(const int* p, int i) { return p[i]; }
void HeapFixtureWrite(int* p, int i, int value) { p[i] = value; }

}  // namespace switchyard::sim::testing
