// Crash isolation: a run that kills the host process (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT,
// a failed SY_CHECK, a fiber stack overflow, an uncaught exception) is a finding, not the end of
// the campaign.
//
// RunIsolated runs one scenario in a forked child. The child's decider tees every decision to
// a pipe as it is made (Decider::TeeTo), and signal handlers on an alternate stack write where
// the simulation stood (step, vCPU, fiber) and a few frames of the host stack before the child
// dies with the signal's default action; the child's stderr (an SY_CHECK message, a stack
// overflow report, std::terminate's line) is captured too. The parent therefore knows, for a
// crash, the signal, the decision log up to the crash (replaying it reaches the same crash: runs
// are deterministic), and a one-line account of where. A child that finishes reports its
// outcome instead.
//
// The cost is a fork per isolated run; campaigns use it only to classify the seed a worker died
// on (cli/explore.cc), and the other subcommands once per command.
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
  bool crashed = false;
  int signal = 0;              // when crashed: the signal that killed the child
  sim::Outcome outcome;        // kind, invariant, message, step; kCrash when crashed
  sim::DecisionLog log;        // every decision made, up to the crash
  std::vector<std::string> frames;  // a few host frames at the crash, when they could be had
  std::string stderr_tail;          // the child's last line on stderr, if any
};

// Runs `run` in a forked child. `run` must make its decider, call decider.TeeTo(tee_fd) before
// the run starts, and return the run's result. REQUIRES: no other threads (fork).
IsolatedRun RunIsolated(const std::function<RunResult(int tee_fd)>& run);

// "SIGSEGV", "SIGABRT", ...; "signal N" for others.
std::string SignalName(int signal);

// The invariant name of a crash by `signal`: "crash: SIGSEGV". The same signal is the same
// failure (shrink keeps a candidate that crashes with it).
std::string CrashInvariant(int signal);

// Installs the crash recorder in this process (the isolated child does this itself): on a fatal
// signal it writes its record to `fd` and re-raises. Exposed for the fuzz targets' replay.
void InstallCrashRecorder(int fd);

}  // namespace switchyard::scenario

#endif  // SWITCHYARD_SCENARIO_ISOLATION_H_
