#include "sim/decider.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "base/check.h"

namespace switchyard::sim {

uint64_t HashName(std::string_view name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (char c : name) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001B3ull;
  }
  return h;
}

Decider::Decider() { log_.stream_names.emplace_back(kScheduleStreamName); }

StreamId Decider::Stream(std::string_view name) {
  for (size_t i = 0; i < log_.stream_names.size(); ++i) {
    if (log_.stream_names[i] == name) return static_cast<StreamId>(i);
  }
  SY_CHECK(log_.stream_names.size() < 0xFFFF);
  log_.stream_names.emplace_back(name);
  StreamId id = static_cast<StreamId>(log_.stream_names.size() - 1);
  OnStreamOpened(id, name);
  if (tee_fd_ >= 0) TeeStream(id);
  return id;
}

// The tee's records: 'S', id (2 bytes), length (2 bytes), name; 'D', stream (2), options (4),
// value (4). Little-endian host order: the reader is the writer's parent on the same machine.
namespace {
void WriteFully(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the reader is gone; the run goes on
    p += n;
    size -= static_cast<size_t>(n);
  }
}
}  // namespace

void Decider::TeeTo(int fd) {
  tee_fd_ = fd;
  if (fd < 0) return;
  for (size_t i = 0; i < log_.stream_names.size(); ++i) TeeStream(static_cast<StreamId>(i));
  for (const Decision& d : log_.decisions) Tee(d);
}

void Decider::TeeStream(StreamId id) {
  // Called on a fiber's stack (a model opens streams as it runs): header and name are written
  // separately rather than assembled in a buffer as long as the longest name.
  const std::string& name = log_.stream_names[id];
  char header[5];
  uint16_t length = static_cast<uint16_t>(std::min<size_t>(name.size(), 0xFFFF));
  header[0] = 'S';
  std::memcpy(header + 1, &id, 2);
  std::memcpy(header + 3, &length, 2);
  WriteFully(tee_fd_, header, sizeof header);
  WriteFully(tee_fd_, name.data(), length);
}

void Decider::Tee(const Decision& d) {
  char record[11];
  record[0] = 'D';
  std::memcpy(record + 1, &d.stream, 2);
  std::memcpy(record + 3, &d.options, 4);
  std::memcpy(record + 7, &d.value, 4);
  WriteFully(tee_fd_, record, sizeof record);
}

void Decider::SetDivergence(std::string detail) {
  if (!divergence_) divergence_ = Divergence{log_.decisions.size(), std::move(detail)};
}

RandomDecider::RandomDecider(uint64_t seed) : seed_(seed) {
  OnStreamOpened(kScheduleStream, kScheduleStreamName);
}

void RandomDecider::OnStreamOpened(StreamId id, std::string_view name) {
  if (generators_.size() <= id) generators_.resize(id + 1);
  uint64_t mix = seed_ ^ HashName(name);
  Generator& g = generators_[id];
  g.state = SplitMix64(&mix);
  g.next = SplitMix64(&g.state);
}

PctDecider::PctDecider(uint64_t seed, int depth, uint64_t expected_steps, int cpus)
    : RandomDecider(seed), depth_(depth) {
  SY_CHECK(depth >= 1);
  SY_CHECK(cpus >= 1);
  SY_CHECK(expected_steps >= 1);
  // The PCT stream is private to this strategy: it is never recorded, because a replay does not
  // need it (the log holds the picks themselves).
  uint64_t state = seed ^ HashName("pct");
  priority_.resize(cpus);
  for (int i = 0; i < cpus; ++i) priority_[i] = depth + i;
  for (int i = cpus - 1; i > 0; --i) {  // Fisher-Yates
    uint32_t j = Bounded(SplitMix64(&state), static_cast<uint32_t>(i + 1));
    std::swap(priority_[i], priority_[j]);
  }
  for (int i = 1; i < depth; ++i) {
    change_points_.push_back(1 + SplitMix64(&state) % expected_steps);
  }
  std::sort(change_points_.begin(), change_points_.end());
  pct_state_ = state;
}

uint32_t PctDecider::DoPickThread(StreamId /*stream*/, std::span<const uint32_t> thread_ids,
                                  uint64_t step) {
  while (next_thread_change_ < change_points_.size() &&
         change_points_[next_thread_change_] <= step) {
    if (last_thread_ >= 0) {
      thread_priority_[last_thread_] = depth_ - 1 - static_cast<int64_t>(next_thread_change_);
    }
    ++next_thread_change_;
  }
  uint32_t best = 0;
  int64_t best_priority = INT64_MIN;
  for (uint32_t i = 0; i < thread_ids.size(); ++i) {
    uint32_t id = thread_ids[i];
    if (thread_priority_.size() <= id) thread_priority_.resize(id + 1, 0);
    if (thread_priority_[id] == 0) {
      // Above every demoted priority (< depth); distinct with overwhelming probability, and
      // ties go to the lower index, so the choice is deterministic either way.
      thread_priority_[id] = depth_ + 1 + static_cast<int64_t>(SplitMix64(&pct_state_) >> 2);
    }
    if (thread_priority_[id] > best_priority) {
      best_priority = thread_priority_[id];
      best = i;
    }
  }
  last_thread_ = static_cast<int>(thread_ids[best]);
  return best;
}

uint32_t PctDecider::DoPickCpu(std::span<const uint8_t> candidates, uint64_t step) {
  // The vCPU that reached this point is candidates[0] when it can still run; at a change point
  // it is demoted below every initial priority.
  while (next_change_ < change_points_.size() && change_points_[next_change_] <= step) {
    if (last_running_ >= 0) priority_[last_running_] = depth_ - 1 - static_cast<int>(next_change_);
    ++next_change_;
  }
  uint32_t best = 0;
  for (uint32_t i = 1; i < candidates.size(); ++i) {
    if (priority_[candidates[i]] > priority_[candidates[best]]) best = i;
  }
  last_running_ = candidates[best];
  return best;
}

BurstDecider::BurstDecider(uint64_t seed, uint64_t max_burst, bool conflict_directed)
    : RandomDecider(seed), burst_state_(seed ^ HashName("burst")), max_burst_(max_burst) {
  SY_CHECK(max_burst >= 1);
  exponent_max_ = 63 - __builtin_clzll(max_burst);
  if (conflict_directed) {
    cells_.resize(size_t{1} << kConflictTableBits);
    WantAccesses();
  }
}

void BurstDecider::OnCellAccess(int cpu, uint32_t cell, bool write, uint64_t step) {
  // Fibonacci hashing of the id spreads a region's consecutive granules over the table.
  CellAccesses& e = cells_[(cell * 0x9E3779B9u) >> (32 - kConflictTableBits)];
  if (e.cell != cell) e = CellAccesses{cell};
  const auto recent_other = [&](int8_t who, uint64_t when) {
    return who >= 0 && who != cpu && when + kConflictWindowSteps >= step;
  };
  const bool conflict =
      recent_other(e.write_cpu, e.write_step) || (write && recent_other(e.read_cpu, e.read_step));
  if (write) {
    e.write_cpu = static_cast<int8_t>(cpu);
    e.write_step = step;
  } else {
    e.read_cpu = static_cast<int8_t>(cpu);
    e.read_step = step;
  }
  // Only the running vCPU's burst is cut: the access is its own (cpu == position_cpu()).
  if (!conflict || cpu != position_cpu()) return;
  const uint64_t draw = SplitMix64(&burst_state_);
  if ((draw & 1) == 0) return;
  const uint64_t within = (draw >> 1) & 7;
  if (within < left_) {
    left_ = within;
    ++conflict_cuts_;
  }
}

uint64_t BurstDecider::DrawBurst() {
  uint32_t exponent = Bounded(SplitMix64(&burst_state_), static_cast<uint32_t>(exponent_max_ + 1));
  uint64_t low = (uint64_t{1} << exponent) - 1;
  uint64_t length = low + SplitMix64(&burst_state_) % (uint64_t{1} << exponent);
  return std::min(length, max_burst_ - 1);
}

uint32_t BurstDecider::DoPickCpu(std::span<const uint8_t> candidates, uint64_t /*step*/) {
  // position_cpu() is the vCPU that ran up to this point; the simulator lists it first when it
  // can run on.
  const bool running_can_stay = candidates[0] == position_cpu();
  if (running_can_stay && left_ > 0) {
    --left_;
    return 0;
  }
  const uint32_t first = running_can_stay ? 1 : 0;
  const uint32_t others = static_cast<uint32_t>(candidates.size()) - first;
  SY_CHECK(others >= 1);
  uint32_t index = first + Bounded(SplitMix64(&burst_state_), others);
  left_ = DrawBurst();
  return index;
}

ReplayDecider::ReplayDecider(DecisionLog log) : recorded_(std::move(log)) {}

uint32_t ReplayDecider::DoChoose(StreamId stream, uint32_t n) {
  if (divergence()) return 0;
  if (next_ >= recorded_.decisions.size()) {
    SetDivergence(absl::StrCat("the run asked for a choice among ", n, " on stream '",
                               StreamName(stream), "' after the log's last decision (",
                               recorded_.decisions.size(), " recorded)"));
    return 0;
  }
  const Decision& want = recorded_.decisions[next_];
  const std::string& want_name = want.stream < recorded_.stream_names.size()
                                     ? recorded_.stream_names[want.stream]
                                     : std::string("?");
  if (want_name != StreamName(stream) || want.options != n || want.value >= n) {
    SetDivergence(absl::StrCat("decision ", next_, ": the log has a choice among ", want.options,
                               " on stream '", want_name, "', the run asked for a choice among ", n,
                               " on stream '", StreamName(stream), "'"));
    return 0;
  }
  ++next_;
  return want.value;
}

BytesDecider::BytesDecider(const uint8_t* data, size_t size) : data_(data), size_(size) {}

uint32_t BytesDecider::ReadBytes(int count) {
  uint32_t value = 0;
  for (int i = 0; i < count; ++i) {
    value = (value << 8) | (next_ < size_ ? data_[next_] : 0);
    if (next_ < size_) ++next_;
  }
  return value;
}

uint32_t BytesDecider::DoChoose(StreamId /*stream*/, uint32_t n) {
  if (next_ >= size_) return 0;
  int count = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
  return ReadBytes(count) % n;
}

uint32_t BytesDecider::DoPickCpu(std::span<const uint8_t> candidates, uint64_t /*step*/) {
  if (sticky_left_ > 0) {
    --sticky_left_;
    for (uint32_t i = 0; i < candidates.size(); ++i) {
      if (candidates[i] == sticky_cpu_) return i;
    }
  }
  if (next_ >= size_) return 0;
  uint32_t index = ReadBytes(1) % candidates.size();
  sticky_cpu_ = candidates[index];
  sticky_left_ = ReadBytes(1);
  return index;
}

}  // namespace switchyard::sim
