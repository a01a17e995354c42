// A module of code under test: a shared object compiled with -fsanitize=thread (so that its
// accesses are points, sim/instrumentation.h) and the platform (sim/platform.h), loaded into the
// switchyard process, with its global state reset before every run.
//
// Code under test keeps its state in globals (a kernel's proc[] and cpus[], its locks, static
// locals). Load snapshots the module's writable data once, after its constructors ran, and Reset
// restores it, so that run N+1 never sees what run N wrote. The writable data is registered as
// one memory region (its offsets are the cell ids of its variables: the same in every process,
// whatever address the loader picked), and the module's read-only data as private (reads of
// constants are not points).
//
// Modules are loaded with RTLD_LOCAL and never unloaded (their regions stay registered for the
// life of the process). The module must be linked with full RELRO (`-Wl,-z,relro,-z,now`), so
// that everything the loader writes after relocation is read-only and outside the snapshot, and
// with -Bsymbolic, so that its calls to its own functions stay inside it; its
// __tsan_* and sy_* references bind to the executable's definitions (the executable exports
// them: //sim:instrumentation's linkopts). A module that allocates from the host heap is not
// supported: touching such memory in a run is the violation "unattributed-access".
#ifndef SWITCHYARD_SIM_MODULE_H_
#define SWITCHYARD_SIM_MODULE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace switchyard::sim {

class Module {
 public:
  // Loads the shared object at `path`. Errors (a one-line absl::Status): the file cannot be
  // loaded (dlerror's message: a missing file, an undefined symbol), or it has no writable data
  // or more than one writable segment outside RELRO.
  static absl::StatusOr<std::unique_ptr<Module>> Load(const std::string& path);
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The address of a symbol the module defines, or null.
  void* Symbol(const char* name) const;
  // Restores the module's writable data to its state right after Load, or at the last Snapshot.
  void Reset();
  // Takes the state that Reset restores from now on (after the code's own initialisation).
  void Snapshot();
  // Memory the module's code uses outside its own data (a mapping the host made for it at a
  // fixed address: the xv6 platform's physical memory): registered as a region named `name`
  // and, from now on, snapshotted and restored with the writable data, so that runs stay
  // reproducible. Its contents now are what Reset restores until the next Snapshot. Errors: the
  // region overlaps another, or there are too many (Instrumentation::RegisterRegion's).
  absl::Status AddMemory(uintptr_t begin, size_t size, const std::string& name);

  const std::string& path() const { return path_; }
  uintptr_t load_address() const { return load_address_; }
  // The writable data: [data_begin, data_begin + data_size).
  uintptr_t data_begin() const { return data_begin_; }
  size_t data_size() const { return snapshot_.size(); }

 private:
  Module() = default;

  std::string path_;
  void* handle_ = nullptr;
  uintptr_t load_address_ = 0;
  uintptr_t data_begin_ = 0;
  std::vector<unsigned char> snapshot_;
  struct Memory {
    uintptr_t begin;
    std::vector<unsigned char> snapshot;
  };
  std::vector<Memory> memories_;  // AddMemory's, each restored with the data
};

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_MODULE_H_
