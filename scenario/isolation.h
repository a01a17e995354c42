// Crash isolation: a run that kills the host process (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
// a failed SY_CHECK, a fiber stack overflow, an uncaught exception) is a finding, not the end of
// the campaign.
//
// RunIsolated runs one scenario in a forked child. The child's decider tees every decision to
// a pipe as it is made (Decider::TeeTo), and signal handlers on an alternate stack write where
// the simulation stood (step, vCPU, fiber) and the addresses of the host stack before the child
// dies with the signal's default action; the child's stderr (an SY_CHECK message, a stack
// overflow report, std::terminate's line) is captured too. The parent therefore knows, for a
// crash, the signal, the decision log up to the crash (replaying it reaches the same crash: runs
// are deterministic), and a one-line account of where. A child that finishes reports its
// outcome instead.
//
// The cost is a fork per isolated run; campaigns use it only to classify the seed a worker died
// on (cli/explore.cc), the other subcommands once per command, and in-process campaigns (tests,
// benchmarks) for the planted bugs that crash (BugSpec::crashes_host).
#ifndef SWITCHYARD_SCENARIO_ISOLATION_H_
#define SWITCHYARD_SCENARIO_ISOLATION_H_

#include <functional>
#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "sim/decider.h"
#include "sim/simulator.h"

namespace switchyard::scenario {

struct IsolatedRun {
  // The child died (a signal) or was stopped by the hang watchdog (outcome.kind == kHang).
  bool crashed = false;
  int signal = 0;        // when crashed: the signal that killed the child
  sim::Outcome outcome;  // kind, invariant, message, step; kCrash when crashed
  sim::DecisionLog log;  // every decision made, up to the crash
  // The host stack at the crash: the faulting pc, then return addresses outward (none for a
  // signal sent rather than raised by a fault); valid in the parent too (fork keeps the layout).
  std::vector<const void*> frames;
  std::string stderr_tail;  // the child's last line on stderr, if any
};

// Runs `run` in a forked child. `run` must make its decider, call decider.TeeTo(tee_fd) before
// the run starts, and return the run's result. REQUIRES: no other threads (fork).
IsolatedRun RunIsolated(const std::function<RunResult(int tee_fd)>& run);

// Runs `scenario` in a forked child with the decider `make_decider` makes (in the child).
IsolatedRun RunScenarioIsolated(const Scenario& scenario,
                                const std::function<std::unique_ptr<sim::Decider>()>& make_decider);
// The same with the scenario's own decider (its strategy and seed).
IsolatedRun RunScenarioIsolated(const Scenario& scenario);

// For in-process campaigns (tests, benchmarks): RunScenario, except that a planted bug that
// crashes the host (BugSpec::crashes_host) runs isolated, so that its crash is a result.
RunResult RunScenarioGuarded(const Scenario& scenario);

// The run result an isolated run stands for: its outcome and its decision log (up to the crash,
// for a crash), which a reproducer needs.
RunResult ResultOf(const IsolatedRun& run);

// "SIGSEGV", "SIGABRT", ...; "signal N" for others.
std::string SignalName(int signal);

// The invariant name of a crash by `signal`: "crash: SIGSEGV". The same signal is the same
// failure (shrink keeps a candidate that crashes with it).
std::string CrashInvariant(int signal);

// The hang watchdog: a run that reaches no new point (Simulator::Where's step does not change)
// for `seconds` seconds of this process's CPU time has stopped: code under test loops without
// touching shared memory, or over a corrupted list. The watchdog writes a hang record to `fd`
// (the isolated child's record pipe: the parent reports an outcome of kind hang with where the
// run stood and the decisions up to there) or, with fd -1, one line on stderr, and ends the
// process with exit status 6. CPU time, not wall time: a machine under load does not make a slow
// run a hang; a blocked process uses none. Installed in isolated children, explore's workers,
// the subcommands' children and the fuzz targets.
// `abort_on_hang` (the fuzz targets): abort() after the line instead of exiting, so that libFuzzer
// keeps the input as a crash (its -timeout is then not the only line of defence).
void InstallHangWatchdog(int fd, int seconds, bool abort_on_hang = false);
// Stops the watchdog: the run is over and what is left is the harness's own work (a replay's
// views of a run of millions of steps reach no point and are not a hang).
void StopHangWatchdog();
// The watchdog's limit: SWITCHYARD_HANG_SECONDS (read once; for tests) or 10 s.
int HangSeconds();
inline constexpr int kHangExitStatus = 6;

// Installs the crash recorder in this process (the isolated child does this itself): on a fatal
// signal it writes its record to `fd` and re-raises. Exposed for the fuzz targets' replay.
void InstallCrashRecorder(int fd);

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_ISOLATION_H_
