#include "scenario/isolation.h"

#include <execinfo.h>
#include <poll.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace switchyard::scenario {
namespace {

constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
constexpr int kMaxFrames = 12;

int recorder_fd = -1;
struct sigaction previous_actions[NSIG];

void WriteAll(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = write(fd, p, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    size -= static_cast<size_t>(n);
  }
}

// The host frames at the fault, innermost first: the faulting pc from the signal's context, then
// the return addresses along the frame-pointer chain (every build keeps frame pointers, .bazelrc).
// A walk rather than backtrace(3): under ASan the unwinder loses the frames below the signal
// frame. The walk only goes up the stack, in bounded steps, so a corrupt chain ends it.
int CrashFrames(void* context, const void** frames, int capacity) {
  int n = 0;
#if defined(__x86_64__)
  const auto* uc = static_cast<const ucontext_t*>(context);
  uintptr_t fp = static_cast<uintptr_t>(uc->uc_mcontext.gregs[REG_RBP]);
  frames[n++] = reinterpret_cast<const void*>(uc->uc_mcontext.gregs[REG_RIP]);
  while (n < capacity && fp != 0 && fp % sizeof(uintptr_t) == 0) {
    const auto* frame = reinterpret_cast<const uintptr_t*>(fp);
    const uintptr_t next = frame[0];
    if (frame[1] == 0) break;
    frames[n++] = reinterpret_cast<const void*>(frame[1]);
    if (next <= fp || next - fp > (1u << 20)) break;
    fp = next;
  }
#else
  (void)context;
  void* raw[kMaxFrames];
  int got = backtrace(raw, capacity < kMaxFrames ? capacity : kMaxFrames);
  for (int i = 2; i < got; ++i) frames[n++] = raw[i];  // past this handler and the trampoline
#endif
  return n;
}

// One record of where the simulation stood when the process stopped: 'C' for a fatal signal, 'H'
// for the hang watchdog. Async-signal-safe (plain stores and write(2)).
void WriteWhereRecord(int fd, char tag, int32_t sig, bool in_run,
                      const sim::Simulator::Whereabouts& where) {
  char record[1 + 4 + 1 + 8 + 4 + 4 + 2 + 64];
  size_t at = 0;
  auto put = [&record, &at](const void* data, size_t size) {
    std::memcpy(record + at, data, size);
    at += size;
  };
  const uint8_t have = in_run ? 1 : 0;
  const int32_t cpu = where.cpu;
  uint16_t length = 0;
  if (in_run) {
    while (length < 64 && where.fiber_name[length] != '\0') ++length;
  }
  put(&tag, 1);
  put(&sig, 4);
  put(&have, 1);
  put(&where.step, 8);
  put(&cpu, 4);
  put(&where.fiber, 4);
  put(&length, 2);
  if (length > 0) put(where.fiber_name, length);
  WriteAll(fd, record, at);
}

// Async-signal-safe: plain stores, write(2), sigaction, raise. The crash record goes out before
// the frames, so that a walk that faults on a corrupt stack still leaves the crash known.
void OnFatalSignal(int signal, siginfo_t* info, void* context) {
  sim::Simulator::Whereabouts where{};
  const bool in_run = sim::Simulator::Where(&where);
  WriteWhereRecord(recorder_fd, 'C', signal, in_run, where);
  // Only the first fatal signal's frames: a signal raised again on the way out is its echo.
  static volatile sig_atomic_t frames_written = 0;
  if (!frames_written && info != nullptr && info->si_code > 0) {
    frames_written = 1;
    const void* frames[kMaxFrames];
    const uint8_t n = static_cast<uint8_t>(CrashFrames(context, frames, kMaxFrames));
    const char frames_tag = 'F';
    WriteAll(recorder_fd, &frames_tag, 1);
    WriteAll(recorder_fd, &n, 1);
    WriteAll(recorder_fd, frames, n * sizeof(void*));
  }
  // Hand the signal on to whatever was there before (the stack-overflow reporter, ASan, or the
  // default action): a fault re-executes and faults again; a raised signal is raised again.
  sigaction(signal, &previous_actions[signal], nullptr);
  if (info == nullptr || info->si_code <= 0) raise(signal);
}

// ---- The hang watchdog ----

int watchdog_fd = -1;
int watchdog_limit = 0;      // seconds of CPU time without a new point
int watchdog_stalled = 0;    // ticks (CPU seconds) since the step last changed
uint64_t watchdog_mark = 0;  // the step at the last tick (UINT64_MAX: outside a run)
bool watchdog_marked = false;
bool watchdog_aborts = false;

// Async-signal-safe: plain stores, write(2), _exit. Ticks once per second of CPU time.
void OnWatchdogTick(int) {
  sim::Simulator::Whereabouts where{};
  const bool in_run = sim::Simulator::Where(&where);
  const uint64_t mark = in_run ? where.step : UINT64_MAX;
  if (!watchdog_marked || mark != watchdog_mark) {
    watchdog_marked = true;
    watchdog_mark = mark;
    watchdog_stalled = 0;
    return;
  }
  if (++watchdog_stalled < watchdog_limit) return;
  if (watchdog_fd >= 0) {
    WriteWhereRecord(watchdog_fd, 'H', SIGPROF, in_run, where);
  } else {
    static const char line[] =
        "switchyard: hang: the run reached no new point for the watchdog's limit of CPU time "
        "(code under test loops without touching shared memory)\n";
    WriteAll(STDERR_FILENO, line, sizeof line - 1);
    if (watchdog_aborts) abort();
  }
  _exit(kHangExitStatus);
}

std::string ReadString(const std::string& buffer, size_t* at, size_t length) {
  std::string s = buffer.substr(*at, length);
  *at += length;
  return s;
}

template <typename T>
bool ReadValue(const std::string& buffer, size_t* at, T* out) {
  if (*at + sizeof(T) > buffer.size()) return false;
  std::memcpy(out, buffer.data() + *at, sizeof(T));
  *at += sizeof(T);
  return true;
}

// Parses the child's records: streams, decisions, a crash, an outcome. Stops at a torn record.
void Parse(const std::string& buffer, IsolatedRun* result, bool* finished, bool* recorded_crash,
           sim::Simulator::Whereabouts* where, std::string* fiber_name, bool* in_run) {
  size_t at = 0;
  while (at < buffer.size()) {
    const char tag = buffer[at++];
    if (tag == 'S') {
      uint16_t id = 0, length = 0;
      if (!ReadValue(buffer, &at, &id) || !ReadValue(buffer, &at, &length) ||
          at + length > buffer.size()) {
        return;
      }
      std::string name = ReadString(buffer, &at, length);
      if (result->log.stream_names.size() <= id) result->log.stream_names.resize(id + 1);
      result->log.stream_names[id] = name;
    } else if (tag == 'D') {
      sim::Decision d{};
      if (!ReadValue(buffer, &at, &d.stream) || !ReadValue(buffer, &at, &d.options) ||
          !ReadValue(buffer, &at, &d.value)) {
        return;
      }
      result->log.decisions.push_back(d);
    } else if (tag == 'C' || tag == 'H') {
      int32_t sig = 0, cpu = 0;
      uint8_t have = 0;
      uint16_t length = 0;
      if (!ReadValue(buffer, &at, &sig) || !ReadValue(buffer, &at, &have) ||
          !ReadValue(buffer, &at, &where->step) || !ReadValue(buffer, &at, &cpu) ||
          !ReadValue(buffer, &at, &where->fiber) || !ReadValue(buffer, &at, &length) ||
          at + length > buffer.size()) {
        return;
      }
      std::string name = ReadString(buffer, &at, length);
      if (!*recorded_crash) {  // the first fatal signal is the crash; later ones are its echo
        *recorded_crash = true;
        result->outcome.kind = tag == 'H' ? sim::Outcome::Kind::kHang : sim::Outcome::Kind::kCrash;
        result->signal = sig;
        where->cpu = cpu;
        *fiber_name = name;
        *in_run = have != 0;
      }
    } else if (tag == 'F') {
      uint8_t frames = 0;
      if (!ReadValue(buffer, &at, &frames) || at + frames * sizeof(void*) > buffer.size()) return;
      result->frames.resize(frames);
      std::memcpy(result->frames.data(), buffer.data() + at, frames * sizeof(void*));
      at += frames * sizeof(void*);
    } else if (tag == 'O') {
      uint8_t kind = 0;
      uint32_t invariant_length = 0, message_length = 0;
      if (!ReadValue(buffer, &at, &kind) || !ReadValue(buffer, &at, &result->outcome.step) ||
          !ReadValue(buffer, &at, &result->outcome.trace_hash) ||
          !ReadValue(buffer, &at, &result->outcome.time) ||
          !ReadValue(buffer, &at, &result->outcome.switches) ||
          !ReadValue(buffer, &at, &result->outcome.preemptions) ||
          !ReadValue(buffer, &at, &result->outcome.interrupts) ||
          !ReadValue(buffer, &at, &invariant_length) || at + invariant_length > buffer.size()) {
        return;
      }
      result->outcome.invariant = ReadString(buffer, &at, invariant_length);
      if (!ReadValue(buffer, &at, &message_length) || at + message_length > buffer.size()) return;
      result->outcome.message = ReadString(buffer, &at, message_length);
      result->outcome.kind = static_cast<sim::Outcome::Kind>(kind);
      *finished = true;
    } else {
      return;
    }
  }
}

void WriteOutcome(int fd, const sim::Outcome& o) {
  std::string record = "O";
  auto put = [&record](const void* data, size_t size) {
    record.append(static_cast<const char*>(data), size);
  };
  const uint8_t kind = static_cast<uint8_t>(o.kind);
  const uint32_t invariant_length = static_cast<uint32_t>(o.invariant.size());
  const uint32_t message_length = static_cast<uint32_t>(o.message.size());
  put(&kind, 1);
  put(&o.step, 8);
  put(&o.trace_hash, 8);
  put(&o.time, 8);
  put(&o.switches, 8);
  put(&o.preemptions, 8);
  put(&o.interrupts, 8);
  put(&invariant_length, 4);
  put(o.invariant.data(), invariant_length);
  put(&message_length, 4);
  put(o.message.data(), message_length);
  WriteAll(fd, record.data(), record.size());
}

}  // namespace

std::string SignalName(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGFPE:
      return "SIGFPE";
    case SIGILL:
      return "SIGILL";
    case SIGABRT:
      return "SIGABRT";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    default:
      return absl::StrCat("signal ", signal);
  }
}

std::string CrashInvariant(int signal) { return absl::StrCat("crash: ", SignalName(signal)); }

void InstallCrashRecorder(int fd) {
  recorder_fd = fd;
#if !defined(__x86_64__)
  void* preload[1];
  backtrace(preload, 1);  // loads the unwinder now: it may allocate, a signal handler must not
#endif
  static char alternate[64 * 1024];
  stack_t stack{};
  stack.ss_sp = alternate;
  stack.ss_size = sizeof alternate;
  sigaltstack(&stack, nullptr);
  for (int signal : kFatalSignals) {
    struct sigaction action {};
    action.sa_sigaction = OnFatalSignal;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    sigaction(signal, &action, &previous_actions[signal]);
  }
}

void InstallHangWatchdog(int fd, int seconds, bool abort_on_hang) {
  watchdog_fd = fd;
  watchdog_aborts = abort_on_hang;
  watchdog_limit = seconds;
  watchdog_stalled = 0;
  watchdog_marked = false;
  struct sigaction action {};
  action.sa_handler = OnWatchdogTick;
  action.sa_flags = SA_RESTART | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  sigaction(SIGPROF, &action, nullptr);
  itimerval every_second{};
  every_second.it_interval.tv_sec = 1;
  every_second.it_value.tv_sec = 1;
  setitimer(ITIMER_PROF, &every_second, nullptr);
}

void StopHangWatchdog() {
  itimerval off{};
  setitimer(ITIMER_PROF, &off, nullptr);
}

int HangSeconds() {
  static const int seconds = [] {
    const char* value = std::getenv("SWITCHYARD_HANG_SECONDS");
    int n = 0;
    if (value != nullptr && absl::SimpleAtoi(value, &n) && n > 0) return n;
    return 10;
  }();
  return seconds;
}

IsolatedRun RunIsolated(const std::function<RunResult(int tee_fd)>& run) {
  IsolatedRun result;
  int records[2], errors[2];
  if (pipe(records) != 0 || pipe(errors) != 0) {
    result.crashed = true;
    result.outcome.kind = sim::Outcome::Kind::kCrash;
    result.outcome.invariant = "crash: cannot isolate";
    result.outcome.message = absl::StrCat("cannot create a pipe: ", std::strerror(errno));
    return result;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(records[0]);
    close(errors[0]);
    dup2(errors[1], STDERR_FILENO);
    close(errors[1]);
    signal(SIGINT, SIG_IGN);
    signal(SIGTERM, SIG_DFL);
    InstallCrashRecorder(records[1]);
    InstallHangWatchdog(records[1], HangSeconds());
    RunResult r = run(records[1]);
    WriteOutcome(records[1], r.outcome);
    _exit(0);
  }
  close(records[1]);
  close(errors[1]);
  std::string buffer, errors_text;
  pollfd fds[2] = {{records[0], POLLIN, 0}, {errors[0], POLLIN, 0}};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (pollfd& p : fds) {
      if (p.fd < 0 || !(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      ssize_t n = read(p.fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        close(p.fd);
        p.fd = -1;
        --open_fds;
        continue;
      }
      (p.fd == records[0] ? buffer : errors_text).append(chunk, static_cast<size_t>(n));
    }
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool finished = false, recorded_crash = false, in_run = false;
  sim::Simulator::Whereabouts where{};
  std::string fiber_name;
  Parse(buffer, &result, &finished, &recorded_crash, &where, &fiber_name, &in_run);
  // The child's stderr: its last line says what went wrong in its own words (an SY_CHECK, a stack
  // overflow, std::terminate).
  // A sanitizer's own report of the crash is not that: lines from its first on are left out.
  for (absl::string_view line : absl::StrSplit(errors_text, '\n', absl::SkipEmpty())) {
    if (absl::StartsWith(line, "AddressSanitizer") || absl::StartsWith(line, "==") ||
        absl::StartsWith(line, "UndefinedBehaviorSanitizer")) {
      break;
    }
    result.stderr_tail = std::string(line);
  }
  if (finished && WIFEXITED(status) && WEXITSTATUS(status) == 0) return result;
  result.crashed = true;
  if (recorded_crash && result.outcome.kind == sim::Outcome::Kind::kHang) {
    result.signal = 0;
    result.outcome.step = where.step;
    result.outcome.trace_hash = 0;
    result.outcome.invariant = "hang";
    result.outcome.message =
        in_run ? absl::StrCat("no new point for ", HangSeconds(), " s of CPU time: fiber '",
                              fiber_name, "' on cpu", where.cpu, " after step ", where.step,
                              " loops without touching shared memory")
               : absl::StrCat("no progress for ", HangSeconds(),
                              " s of CPU time outside the simulation (setting up the run)");
    return result;
  }
  if (!recorded_crash) {
    result.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  result.outcome.kind = sim::Outcome::Kind::kCrash;
  result.outcome.step = where.step;
  result.outcome.trace_hash = 0;
  result.outcome.invariant =
      result.signal != 0
          ? CrashInvariant(result.signal)
          : absl::StrCat("crash: exit ", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  std::string message = in_run ? absl::StrCat(SignalName(result.signal), " in fiber '", fiber_name,
                                              "' on cpu", where.cpu, " at step ", where.step)
                               : absl::StrCat(SignalName(result.signal), " outside the simulation");
  if (!result.stderr_tail.empty()) absl::StrAppend(&message, "; stderr: ", result.stderr_tail);
  result.outcome.message = std::move(message);
  return result;
}

IsolatedRun RunScenarioIsolated(
    const Scenario& scenario, const std::function<std::unique_ptr<sim::Decider>()>& make_decider) {
  return RunIsolated([&scenario, &make_decider](int tee_fd) {
    std::unique_ptr<sim::Decider> decider = make_decider();
    decider->TeeTo(tee_fd);
    return RunWith(scenario, *decider, false);
  });
}

IsolatedRun RunScenarioIsolated(const Scenario& scenario) {
  return RunScenarioIsolated(scenario, [&scenario] { return MakeDecider(scenario, nullptr, {}); });
}

RunResult RunScenarioGuarded(const Scenario& scenario) {
  bool crashes = false;
  if (const ModelSpec* m = FindModel(scenario.model)) {
    for (const BugSpec& b : m->bugs)
      crashes = crashes || (b.name == scenario.bug && b.crashes_host);
  }
  return crashes ? ResultOf(RunScenarioIsolated(scenario)) : RunScenario(scenario);
}

RunResult ResultOf(const IsolatedRun& run) {
  RunResult r;
  r.outcome = run.outcome;
  r.log = run.log;
  return r;
}

}  // namespace switchyard::scenario
