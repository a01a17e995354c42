// SY_CHECK: a check that stays on in every build, optimised ones included. A harness that stops
// checking under -O2 is useless. For the harness's own preconditions (misuse of its API); a
// model's violations are reported through Simulator::Fail, never through SY_CHECK.
// The bottom layer: arch/ and sim/ and everything above them may use it; it depends on nothing
// of the project.
#ifndef SWITCHYARD_BASE_CHECK_H_
#define SWITCHYARD_BASE_CHECK_H_

namespace switchyard::base {
[[noreturn]] void CheckFailed(const char* file, int line, const char* condition);
}  // namespace switchyard::base

#define SY_CHECK(condition)                                            \
  do {                                                                 \
    if (__builtin_expect(!(condition), 0)) {                           \
      ::switchyard::base::CheckFailed(__FILE__, __LINE__, #condition); \
    }                                                                  \
  } while (0)

#endif  // SWITCHYARD_BASE_CHECK_H_
