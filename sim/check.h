// SY_CHECK: a check that stays on in every build, optimised ones included. A harness that stops
// checking under -O2 is useless. For the harness's own preconditions (misuse of its API); a
// model's violations are reported through Simulator::Fail, never through SY_CHECK.
#ifndef SWITCHYARD_SIM_CHECK_H_
#define SWITCHYARD_SIM_CHECK_H_

namespace switchyard::sim {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace switchyard::sim

#define SY_CHECK(condition)                                           \
  do {                                                                \
    if (__builtin_expect(!(condition), 0)) {                          \
      ::switchyard::sim::CheckFailed(__FILE__, __LINE__, #condition); \
    }                                                                 \
  } while (0)

#endif  // SWITCHYARD_SIM_CHECK_H_
