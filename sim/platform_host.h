// The host side of sim/platform.h: binds the platform functions that code under test calls to
// one Simulator, as that simulation's Machine.
//
// A Platform is the Machine of a run whose kernel is code under test: the simulator calls Trap,
// which calls the trap entry the code registered (sy_set_trap). Contexts (struct sy_context) map
// to fibers by address: each context address gets its own fiber the first time a thread starts
// in it, so ids and names are given in the order threads first start, the same in every
// execution of the same scenario. One Platform exists at a time on a thread; the sy_* functions
// act on it and stop the process with a one-line message when none exists (code under test
// called outside a run).
#ifndef SWITCHYARD_SIM_PLATFORM_HOST_H_
#define SWITCHYARD_SIM_PLATFORM_HOST_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "sim/platform.h"
#include "sim/simulator.h"

namespace switchyard::sim {

class Platform : public Machine {
 public:
  // Binds the sy_* functions to `sim` until destroyed. REQUIRES: no other Platform exists.
  explicit Platform(Simulator& sim);
  ~Platform() override;
  Platform(const Platform&) = delete;
  Platform& operator=(const Platform&) = delete;

  // vCPU `cpu` boots in entry(cpu) (a kernel's main). REQUIRES: before Run, once per vCPU.
  void Boot(int cpu, void (*entry)(int cpu));
  // What DescribeStuck says for a liveness failure (the model's account of its threads).
  void SetDescribeStuck(std::function<std::string()> describe) { describe_ = std::move(describe); }

  void Trap(int cpu, int line) override;
  std::string DescribeStuck() override { return describe_ ? describe_() : ""; }

  // ---- For the sy_* functions ----
  static Platform& Current();
  Simulator& sim() { return sim_; }
  void Swtch(sy_context* old_context, sy_context* new_context);
  [[noreturn]] void Reenter(void (*fn)());
  uint64_t Choose(const char* stream, uint64_t options);
  void SetTrap(void (*trap)(int line)) { trap_ = trap; }
  // A point before an operation on the running vCPU's own CPU state when interrupts are on
  // (see sim/platform.h); `write`: the operation changes it.
  void CpuStatePoint(bool write, const void* pc);

 private:
  static void BootStart(void* platform);
  static void ThreadStart(void* platform);

  Simulator& sim_;
  void (*trap_)(int line) = nullptr;
  std::function<std::string()> describe_;
  std::vector<void (*)(int)> boot_entries_;  // by fiber id, for boot fibers
  std::vector<uintptr_t> thread_entries_;    // by fiber id: the entry a thread started at
  absl::flat_hash_map<const sy_context*, Fiber*> fibers_by_context_;  // lookups only
  absl::flat_hash_map<std::string, StreamId> streams_;                // lookups only
};

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_PLATFORM_HOST_H_
