// The decider: the one source of every nondeterministic choice in a run.
//
// Models and the simulator never draw randomness themselves: they ask the run's Decider. A choice
// belongs to a named stream ("schedule", "workload", "disk-latency", ...). Each stream of the
// seeded strategies has its own generator derived from the run seed and the stream's name, so a
// model that adds a choice on one stream does not shift the choices of every other stream.
//
// Every choice with more than one option is recorded in the decision log (stream, number of
// options, value). Replaying the log reproduces the run; a replay that is asked for a different
// stream or number of options than recorded has diverged, and says where.
//
// Strategies:
//   RandomDecider  uniform choices from the seed.
//   PctDecider     PCT (Burckhardt et al., ASPLOS 2010) for the schedule stream: random distinct
//                  vCPU priorities, d-1 priority-change points; other streams as RandomDecider.
//   BurstDecider   sticky scheduling: the running vCPU keeps running for a burst of schedule
//                  points of log-uniformly drawn length, then a drawn other vCPU runs; other
//                  streams as RandomDecider. Conflict-directed: a burst may also end a few
//                  points after an access that conflicts with another vCPU's recent access.
//   ReplayDecider  the recorded log, strictly; divergence is reported, never papered over.
//   BytesDecider   bytes from a fuzzer input; when the bytes run out every choice takes the
//                  default (index 0: no preemption, first option), which keeps inputs short.
//
// Schedule choices go through PickCpu: the simulator passes the candidate vCPUs with the one that
// is running now first (if it is a candidate), so index 0 always means "do not preempt".
#ifndef SWITCHYARD_SIM_DECIDER_H_
#define SWITCHYARD_SIM_DECIDER_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace switchyard::sim {

using StreamId = uint16_t;

// The stream every decider opens first, for schedule decisions.
inline constexpr StreamId kScheduleStream = 0;
inline constexpr std::string_view kScheduleStreamName = "schedule";

struct Decision {
  StreamId stream;
  uint32_t options;  // number of options; always >= 2 (single-option choices are not recorded)
  uint32_t value;    // < options
  bool operator==(const Decision&) const = default;
};

struct DecisionLog {
  std::vector<std::string> stream_names;  // index = StreamId
  std::vector<Decision> decisions;
};

// splitmix64 (Steele, Lea, Flood 2014): a tiny generator whose output is fixed by its definition,
// so the same seed gives the same choices with every compiler and standard library.
inline uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// FNV-1a over a name, used to derive a stream's seed from the run seed.
uint64_t HashName(std::string_view name);

// Maps a 32-bit random value onto [0, n) (Lemire's multiply-shift).
inline uint32_t Bounded(uint64_t random, uint32_t n) {
  return static_cast<uint32_t>(((random & 0xFFFFFFFFull) * n) >> 32);
}

// Where a replay stopped matching its log.
struct Divergence {
  uint64_t decision_index;
  std::string detail;  // one line, in terms of streams and option counts
};

class Decider {
 public:
  Decider();
  virtual ~Decider() = default;
  Decider(const Decider&) = delete;
  Decider& operator=(const Decider&) = delete;

  // Returns the stream's id, opening it on first use. Ids are given in order of first use, which
  // is deterministic because the run is.
  StreamId Stream(std::string_view name);
  const std::string& StreamName(StreamId id) const { return log_.stream_names[id]; }

  // A value in [0, n). REQUIRES: n >= 1. A choice with one option is answered without being
  // recorded or consuming anything.
  uint32_t Choose(StreamId stream, uint32_t n) {
    if (n <= 1) return 0;
    uint32_t value = DoChoose(stream, n);
    Record(stream, n, value);
    return value;
  }

  // Index into `candidates` (vCPU numbers) of the vCPU to run next. `step` is the simulator's step
  // counter. candidates[0] is the running vCPU when it is a candidate, so 0 means "no preemption".
  uint32_t PickCpu(std::span<const uint8_t> candidates, uint64_t step) {
    uint32_t n = static_cast<uint32_t>(candidates.size());
    if (n <= 1) return 0;
    uint32_t value = DoPickCpu(candidates, step);
    Record(kScheduleStream, n, value);
    return value;
  }

  // A model's own scheduling choice among threads (a runqueue pick on a uniprocessor model),
  // recorded on `stream` like Choose. `thread_ids` are stable ids of the candidates (pids). The
  // seeded strategies treat it as a uniform choice, except PCT, which schedules threads by
  // priority as it does vCPUs, so PCT means something on a one-vCPU model too.
  uint32_t PickThread(StreamId stream, std::span<const uint32_t> thread_ids, uint64_t step) {
    uint32_t n = static_cast<uint32_t>(thread_ids.size());
    if (n <= 1) return 0;
    uint32_t value = DoPickThread(stream, thread_ids, step);
    Record(stream, n, value);
    return value;
  }

  // The simulator tells the decider which step is running and on which vCPU, each time it has
  // picked one (before the model's code of that step runs): at a PickCpu, position_cpu() is the
  // vCPU that ran up to it. Strategies that reason about steps (systematic search) read it.
  // The simulator reports each shared-state access (a cell, sim/instrumentation.h) that vCPU
  // `cpu` is about to make, before the PickCpu of the same point, to strategies that asked for
  // them (WantAccesses) and only to them, so the others pay one test of a flag.
  bool wants_accesses() const { return wants_accesses_; }
  void NoteAccess(int cpu, uint32_t cell, bool write, uint64_t step) {
    if (wants_accesses_) OnCellAccess(cpu, cell, write, step);
  }

  void SetPosition(uint64_t step, int cpu) {
    position_step_ = step;
    position_cpu_ = cpu;
    if (wants_positions_) OnPosition();
  }
  uint64_t position_step() const { return position_step_; }
  int position_cpu() const { return position_cpu_; }

  const DecisionLog& log() const { return log_; }
  // Also writes every stream opened and every decision recorded from now on to file descriptor
  // `fd` as it happens (see scenario/isolation.h), so that a process that crashes mid-run has
  // handed its decision log to its parent. -1: stop.
  void TeeTo(int fd);
  // Hands the log over (a run's result keeps it without a copy); the decider's log is empty
  // after.
  DecisionLog TakeLog() { return std::move(log_); }
  // Set when a replay stopped matching its log; the simulator ends the run when it sees it.
  const std::optional<Divergence>& divergence() const { return divergence_; }

 protected:
  virtual uint32_t DoChoose(StreamId stream, uint32_t n) = 0;
  virtual uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t /*step*/) {
    return DoChoose(kScheduleStream, static_cast<uint32_t>(candidates.size()));
  }
  virtual uint32_t DoPickThread(StreamId stream, std::span<const uint32_t> thread_ids,
                                uint64_t /*step*/) {
    return DoChoose(stream, static_cast<uint32_t>(thread_ids.size()));
  }
  // Called by SetPosition, after WantPositions.
  virtual void OnPosition() {}
  void WantPositions() { wants_positions_ = true; }
  virtual void OnCellAccess(int /*cpu*/, uint32_t /*cell*/, bool /*write*/, uint64_t /*step*/) {}
  void WantAccesses() { wants_accesses_ = true; }
  // Called when a stream is first opened, so seeded strategies can derive its generator.
  virtual void OnStreamOpened(StreamId /*id*/, std::string_view /*name*/) {}
  void SetDivergence(std::string detail);

 private:
  // The entry is built in place, field by field: a Decision built on the stack and copied in
  // was stored as 2 + 4 + 4 bytes and reloaded as 8 + 4, a load that store forwarding cannot
  // serve: a third of PickNext's samples were on that store (bench/README.md, "Instrumented code").
  void Record(StreamId stream, uint32_t options, uint32_t value) {
    Decision& d = log_.decisions.emplace_back();
    d.stream = stream;
    d.options = options;
    d.value = value;
    if (__builtin_expect(tee_fd_ >= 0, 0)) Tee(d);
  }
  void Tee(const Decision& d);
  void TeeStream(StreamId id);
  int tee_fd_ = -1;
  bool wants_positions_ = false;
  bool wants_accesses_ = false;
  uint64_t position_step_ = 0;
  int position_cpu_ = -1;
  DecisionLog log_;
  std::optional<Divergence> divergence_;
};

// Uniform choices; one splitmix64 stream per named stream, seeded by HashName(name) ^ seed.
// Each stream's next output is drawn one choice ahead, so a choice waits only for Bounded (and
// a schedule pick's branch resolves sooner): the same outputs in the same order.
class RandomDecider : public Decider {
 public:
  explicit RandomDecider(uint64_t seed);

 protected:
  uint32_t DoChoose(StreamId stream, uint32_t n) override { return Draw(stream, n); }
  uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t /*step*/) override {
    return Draw(kScheduleStream, static_cast<uint32_t>(candidates.size()));
  }
  void OnStreamOpened(StreamId id, std::string_view name) override;

 private:
  struct Generator {
    uint64_t state;
    uint64_t next;  // the stream's next output
  };
  uint32_t Draw(StreamId stream, uint32_t n) {
    Generator& g = generators_[stream];
    const uint64_t random = g.next;
    g.next = SplitMix64(&g.state);
    return Bounded(random, n);
  }
  uint64_t seed_;
  std::vector<Generator> generators_;
};

// PCT: each vCPU gets a distinct random priority in [depth, depth + cpus); depth-1 change points
// are drawn uniformly from [1, expected_steps]. The highest-priority candidate runs. At the i-th
// change point the running vCPU's priority drops to depth - i, below every initial priority.
// With depth 1 there are no change points: a vCPU is never preempted while it can run.
// Threads picked through PickThread are scheduled the same way, with their own priorities
// (drawn when a thread id is first seen, above every demoted priority) and the same change
// points.
class PctDecider : public RandomDecider {
 public:
  PctDecider(uint64_t seed, int depth, uint64_t expected_steps, int cpus);

 protected:
  uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t step) override;
  uint32_t DoPickThread(StreamId stream, std::span<const uint32_t> thread_ids,
                        uint64_t step) override;

 private:
  std::vector<int64_t> thread_priority_;  // by thread id; 0 = not seen yet
  int last_thread_ = -1;
  uint64_t pct_state_ = 0;
  size_t next_thread_change_ = 0;
  std::vector<int> priority_;            // by vCPU
  std::vector<uint64_t> change_points_;  // sorted steps
  size_t next_change_ = 0;
  int last_running_ = -1;
  int depth_;
};

// Burst (sticky) scheduling. Uniform random switching at every point almost never keeps one vCPU
// inside a window of a few points while another runs a long path (in a run of 40,000 access
// points, a switch at half of them gives the other vCPU two points at a time). Here the vCPU that
// is running keeps running until its burst is used up; then a different candidate, drawn
// uniformly, runs, with a new burst. A burst's length (the schedule points it stays for after
// the switch) is log-uniform in [0, max_burst): an exponent k is drawn uniformly from
// [0, floor(log2(max_burst))], then a length uniformly from [2^k - 1, 2^(k+1) - 1), capped. So
// every scale, from a switch at each point to one switch per run, is as likely as every other.
// Integer arithmetic only: the draws are the same on every compiler and libm.
// When the running vCPU cannot run on (it waits for an interrupt, it spins), the switch comes at
// once and a new burst is drawn. PickThread stays uniform, as RandomDecider's: on one-vCPU models
// the strategy is the random one.
// The burst draws come from a private generator seeded from the run seed (like PCT's); only the
// picks are recorded, so the log replays exactly without knowing the strategy.
//
// Conflict-directed (conflict_directed = true): a race needs a switch close to an access that
// another vCPU's recent access conflicts with (the same cell, one of them a write). The decider
// remembers, per cell, the last write and the last read and who made them (a direct-mapped table
// indexed by the cell id, so lookups never depend on hashing or addresses; a collision forgets
// the older cell, which costs a hint, never correctness). An access by the running vCPU that
// conflicts with another vCPU's access within the last kConflictWindowSteps steps ends the
// running burst, with probability 1/2, within the next 0..7 points (0: before the access itself).
class BurstDecider : public RandomDecider {
 public:
  static constexpr uint64_t kConflictWindowSteps = 1000;
  static constexpr int kConflictTableBits = 12;

  // REQUIRES: max_burst >= 1.
  BurstDecider(uint64_t seed, uint64_t max_burst, bool conflict_directed = false);

  // How many bursts were cut short by a conflicting access (for tests and measurements).
  uint64_t conflict_cuts() const { return conflict_cuts_; }

 protected:
  uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t step) override;
  void OnCellAccess(int cpu, uint32_t cell, bool write, uint64_t step) override;

 private:
  struct CellAccesses {
    uint32_t cell = 0;
    int8_t write_cpu = -1;
    int8_t read_cpu = -1;
    uint64_t write_step = 0;
    uint64_t read_step = 0;
  };
  uint64_t DrawBurst();
  uint64_t burst_state_;
  uint64_t max_burst_;
  int exponent_max_;                 // floor(log2(max_burst_))
  uint64_t left_ = 0;                // schedule points the running vCPU still stays for
  std::vector<CellAccesses> cells_;  // 2^kConflictTableBits when conflict-directed, else empty
  uint64_t conflict_cuts_ = 0;
};

// Replays a recorded log strictly. Past the end of the log, or on a mismatch, it records a
// Divergence and answers 0 so the simulator can stop at its next step.
class ReplayDecider : public Decider {
 public:
  explicit ReplayDecider(DecisionLog log);

 protected:
  uint32_t DoChoose(StreamId stream, uint32_t n) override;

 private:
  DecisionLog recorded_;
  size_t next_ = 0;
};

// Follows a log loosely, for shrinking: the i-th choice takes the log's i-th value when it is
// below the number of options asked for, and 0 otherwise or past the end of the log. It never
// diverges, so a log with decisions removed or zeroed still drives a complete run.
class LenientReplayDecider : public Decider {
 public:
  explicit LenientReplayDecider(std::vector<uint32_t> values) : values_(std::move(values)) {}

 protected:
  uint32_t DoChoose(StreamId, uint32_t n) override {
    uint32_t v = next_ < values_.size() ? values_[next_] : 0;
    ++next_;
    return v < n ? v : 0;
  }

 private:
  std::vector<uint32_t> values_;
  size_t next_ = 0;
};

// Decisions from fuzzer bytes. A schedule choice reads two bytes, the candidate (modulo the
// count) and how many following schedule choices keep that vCPU running without reading more
// bytes; other choices read one byte (two when n > 256, four when n > 65536), modulo n. When the
// bytes run out every choice is 0.
class BytesDecider : public Decider {
 public:
  BytesDecider(const uint8_t* data, size_t size);

 protected:
  uint32_t DoChoose(StreamId stream, uint32_t n) override;
  uint32_t DoPickCpu(std::span<const uint8_t> candidates, uint64_t step) override;

 private:
  uint32_t ReadBytes(int count);
  const uint8_t* data_;
  size_t size_;
  size_t next_ = 0;
  int sticky_cpu_ = -1;
  uint32_t sticky_left_ = 0;
};

}  // namespace switchyard::sim

#endif  // SWITCHYARD_SIM_DECIDER_H_
