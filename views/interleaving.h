// The interleaving view (`--trace=interleaving`): a run as columns, one per vCPU, one row per
// step, each row showing the function, file:line and the line's text the vCPU reached, and where
// every other vCPU stands at that moment, so that two CPUs' lines can be read side by side.
//
// Layout, most important first:
//   1. the violation, and the model's explanation of a liveness failure (the last wakeup each
//      stuck thread could have had, and why it did not apply);
//   2. side by side: the rows around that missed wakeup (liveness) or before the violation;
//   3. the last steps of every thread;
//   4. the full listing, in which runs of steps where every vCPU only runs its boot thread
//      (scheduler loops finding nothing to run, timer ticks, wfi) collapse into one line.
// A row is marked '*' when the decider chose to preempt: it moved to this vCPU while the previous
// one could have gone on (a decision that was not the default).
#ifndef SWITCHYARD_VIEWS_INTERLEAVING_H_
#define SWITCHYARD_VIEWS_INTERLEAVING_H_

#include <string>

#include "views/run_view.h"

namespace switchyard::views {

// Idle runs shorter than this many steps are listed row by row.
inline constexpr uint64_t kCollapseMinSteps = 24;
// Rows shown on each side of the step an explanation points at.
inline constexpr uint64_t kWindowRows = 8;
// Steps shown per thread in "last steps".
inline constexpr size_t kLastStepsPerThread = 4;

std::string FormatInterleaving(const RunView& view);

}  // namespace switchyard::views

#endif  // SWITCHYARD_VIEWS_INTERLEAVING_H_
