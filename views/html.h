// The timeline page (`--trace=html`): one self-contained HTML file (inline script and style, no
// network) with a lane per vCPU, a slice per stay of a thread on it, instants for interrupts,
// switches, notes, idling and the violation; zoom (wheel, buttons) and pan (drag) along steps,
// and hovering shows the step, thread, function, file:line and the line's text. The violation,
// the model's explanation and the replay command head the page.
#ifndef SWITCHYARD_VIEWS_HTML_H_
#define SWITCHYARD_VIEWS_HTML_H_

#include <string>
#include <vector>

#include "views/run_view.h"

namespace switchyard::views {

std::string FormatHtml(const RunView& view, const std::string& title);

// For each trace record, where its vCPU stood then ("sleep (kernel_models/xv6/proc.cc:298)"),
// for the Chrome trace's args.
std::vector<std::string> EventLocations(const RunView& view);

}  // namespace switchyard::views

#endif  // SWITCHYARD_VIEWS_HTML_H_
