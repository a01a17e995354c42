// The trace of a run: compact event records folded into a running 64-bit hash, and, when asked
// for, kept for a text timeline and a Chrome trace event export (Perfetto, chrome://tracing).
//
// The hash is a pure function of the records, which hold only integers derived from the run
// (steps, virtual time, vCPU numbers, fiber ids in creation order, event arguments), never
// pointers or host time: the same scenario gives the same hash in any process and any build.
#ifndef SWITCHYARD_SIM_TRACE_H_
#define SWITCHYARD_SIM_TRACE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace switchyard::sim {

enum class EventKind : uint8_t {
  kCpu = 1,        // the simulator moved to another vCPU: a = previous vCPU
  kSwitch = 2,     // a model's swtch on a vCPU: a = from fiber, b = to fiber
  kInterrupt = 3,  // a = interrupt line delivered
  kNote = 4,       // a model event: label, a, b
  kViolation = 5,  // the run ended with a violation or a liveness failure
  kIdle = 6,       // the vCPU waits for an interrupt
};

// Where a fiber stood at a step: the preemption point it stopped at, and the shared-memory access
// (sim/instrumentation.h) it was about to make there, if any. Kept only when records are kept, and
// never folded into the hash: `pc` is a host code address (for source locations, see
// Trace::points()), and an edit that only moves lines must not change a run's hash.
enum class PointKind : uint8_t {
  kPoint = 0,  // Simulator::Point or CoarsePoint
  kSpin = 1,   // a failed spin-wait iteration
  kWait = 2,   // wfi
  kRead = 3,   // cell accesses, as sim::AccessKind + 3
  kWrite = 4,
  kReadModifyWrite = 5,
};

// Emulated code (arch/emu) in PointRecord::pc: the program's own address with bit 63 set, which
// no host code address has. The model that runs the program says how to describe its addresses
// (SetEmulatedCode); the views ask it (views/symbolize.h).
inline constexpr uint64_t kEmulatedPcTag = uint64_t{1} << 63;
inline const void* EmulatedPc(uint64_t address) {
  return reinterpret_cast<const void*>(static_cast<uintptr_t>(address | kEmulatedPcTag));
}
struct EmulatedLocation {
  std::string function;  // "thread_yield"; "" when unknown
  std::string file;      // "user/uthread.c"; "" when unknown
  int line = 0;
  std::string text;  // the line's text, trimmed; "" when the file cannot be read
};
using EmulatedCode = std::function<EmulatedLocation(uint64_t address)>;
// Process-wide; the last model to set it wins (one program is emulated at a time).
void SetEmulatedCode(EmulatedCode describe);
const EmulatedCode& GetEmulatedCode();

struct PointRecord {
  uint64_t step;
  uint32_t fiber;
  uint32_t cell;  // the cell's id for accesses, else 0
  uint8_t cpu;
  PointKind kind;
  const void* pc;  // the model code's return address at the point
};

struct TraceRecord {
  uint64_t step;
  uint64_t time;
  uint32_t fiber;  // fiber current on the vCPU when the event happened
  uint8_t cpu;
  EventKind kind;
  uint64_t a;
  uint64_t b;
  const char* label;  // static string (kNote, kViolation), else nullptr
};

class Trace {
 public:
  explicit Trace(bool keep_records) : keep_records_(keep_records) {}

  void Record(const TraceRecord& r) {
    FoldFields(r.step, r.time, r.fiber, r.cpu, r.kind, r.a, r.b);
    if (r.label != nullptr) {
      for (const char* c = r.label; *c != '\0'; ++c) Fold(static_cast<uint8_t>(*c));
    }
    if (keep_records_) records_.push_back(r);
  }

  // The same as Record({step, time, fiber, cpu, EventKind::kCpu, previous, 0, nullptr}), inlined
  // for the simulator's step: one at every preemption.
  [[gnu::always_inline]] void RecordCpu(uint64_t step, uint64_t time, uint32_t fiber, uint8_t cpu,
                                        uint64_t previous) {
    if (keep_records_) {
      Record({step, time, fiber, cpu, EventKind::kCpu, previous, 0, nullptr});
      return;
    }
    FoldFields(step, time, fiber, cpu, EventKind::kCpu, previous, 0);
  }

  bool keeps_records() const { return keep_records_; }
  // Kept, not hashed (see PointRecord).
  void RecordPoint(const PointRecord& r) {
    if (keep_records_) points_.push_back(r);
  }

  uint64_t hash() const { return hash_; }
  const std::vector<TraceRecord>& records() const { return records_; }
  // One per step, in step order, when records are kept.
  const std::vector<PointRecord>& points() const { return points_; }

 private:
  // A record's fixed fields, in the order every trace hash has folded them.
  [[gnu::always_inline]] void FoldFields(uint64_t step, uint64_t time, uint32_t fiber, uint8_t cpu,
                                         EventKind kind, uint64_t a, uint64_t b) {
    Fold(step);
    Fold(time);
    Fold((static_cast<uint64_t>(fiber) << 16) | (static_cast<uint64_t>(cpu) << 8) |
         static_cast<uint64_t>(kind));
    Fold(a);
    Fold(b);
  }
  void Fold(uint64_t x) {
    hash_ ^= x + 0x9E3779B97F4A7C15ull + (hash_ << 6) + (hash_ >> 2);
    hash_ *= 0xFF51AFD7ED558CCDull;
  }
  bool keep_records_;
  uint64_t hash_ = 0x5357495443485944ull;  // "SWITCHYD"
  std::vector<TraceRecord> records_;
  std::vector<PointRecord> points_;
};

// A readable timeline, one event per line: step, time, cpu, fiber name, event.
// `violation` names the run's failure ("invariant: message"), shown at the violation event.
std::string FormatTextTimeline(const std::vector<TraceRecord>& records,
                               const std::vector<std::string>& fiber_names,
                               const std::string& violation = "");

// Chrome trace event JSON: one lane (thread) per vCPU, one slice per fiber run on that vCPU,
// instant events for interrupts, switches, notes and the violation. One tick of virtual time is
// shown as one microsecond. `boot_fibers[cpu]` is the fiber each vCPU starts with. `where`, if
// given, has one entry per record: the source location of its vCPU then (views/html.h,
// EventLocations), put in the instant's args as "source".
std::string FormatChromeTrace(const std::vector<TraceRecord>& records,
                              const std::vector<std::string>& fiber_names,
                              const std::vector<uint32_t>& boot_fibers, uint64_t end_time,
                              const std::string& violation = "",
                              const std::vector<std::string>* where = nullptr);

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_TRACE_H_
