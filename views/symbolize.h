// Source locations for the code addresses a run records (sim::PointRecord::pc): which function,
// file and line of the model each fiber stood at, and that line's text.
//
// The simulator records the model's return address at every point; it never hashes it, so an
// edit that only moves lines cannot change a trace hash. Turning addresses into lines happens
// after the run, here: each address is made relative to its module (dladdr; the binaries are
// position-independent), and all of them go to one llvm-symbolizer process. Of an inlined chain
// the innermost frame outside the simulator's own header (sim/simulator.h) is the
// location: that is the model function that made the access, whatever the optimiser inlined it
// into (the outer frames are kept as `inlined_into`). The line's text is read from the source
// file when it can be found (see SourceRoots).
//
// An address the line table gives line 0 (optimised code merged from several lines, as the
// instrumented models' -O2 code has at a few accesses) takes the line of the nearest instruction
// before it in the same function.
//
// Degrades, never fails: without llvm-symbolizer a location is the module and offset; without
// line tables (a stripped binary, or one built without -g1) it is the function
// name; `note` says which, once.
#ifndef SWITCHYARD_VIEWS_SYMBOLIZE_H_
#define SWITCHYARD_VIEWS_SYMBOLIZE_H_

#include <map>
#include <string>
#include <vector>

namespace switchyard::views {

struct SourceLocation {
  std::string function;      // short name ("sleep"); "?" when unknown
  std::string file;          // workspace-relative ("kernel_models/xv6/proc.cc"); "" when unknown
  int line = 0;              // 0 when unknown
  std::string text;          // the line's text, trimmed; "" when the file cannot be read
  std::string inlined_into;  // outer frames of an inlined chain, innermost first: "sched < yield"
  // Without a line: "sleep+0x1c" (a dynamic symbol) or "module+0x1234" (offset in the module).
  std::string fallback;

  bool has_line() const { return line > 0; }
  // "sleep proc.cc:301"; without a line table "sleep+0x1c" or "sleep (switchyard+0x1c3f0)";
  // without a symbolizer "switchyard+0x1c3f0"; or "?".
  std::string Short() const;
  // "sleep (kernel_models/xv6/proc.cc:301)".
  std::string Long() const;
};

struct Symbolized {
  std::map<const void*, SourceLocation> locations;
  // Empty when every address got a file and line; otherwise one line saying what is missing and
  // how to get it.
  std::string note;
};

// Symbolizes addresses of code in this process. Distinct addresses are looked up once.
Symbolized Symbolize(const std::vector<const void*>& pcs);

// A finding's message with the code it names located: each `MODULE+0xOFFSET` (optionally
// followed by ` (SYMBOL)`) of a module loaded in this process, as the simulator writes code
// addresses (sim::Instrumentation::DescribeCode: a tree's panic "sched locks (at
// kernel.so+0x3f08 (sched))"), becomes `FILE:LINE in FUNCTION()` ("sched locks (at
// kernel/proc.c:351 in sched())"). A file under a directory named `kernel` or `platform` is shown
// from there, as an xv6 tree names it (and the xv6 platform's checks, compiled from the cache, are
// named as its). Names that are not loaded here, or that have no line, stay as they are; so does
// the whole message without a symbolizer. For printing only: reproducers keep the message as the
// run wrote it.
std::string LocateCode(const std::string& message);

// Where source files are looked for, in order: $SWITCHYARD_SOURCE_ROOT, the workspace of
// `bazel run` ($BUILD_WORKSPACE_DIRECTORY), a test's runfiles, the execroot the binary was built
// in, and the current directory.
std::vector<std::string> SourceRoots();

// The symbolizer command: $SWITCHYARD_SYMBOLIZER, else llvm-symbolizer, llvm-symbolizer-14 or
// /usr/lib/llvm-14/bin/llvm-symbolizer, whichever exists first; "" when none does.
std::string FindSymbolizer();

}  // namespace switchyard::views

#endif  // SWITCHYARD_VIEWS_SYMBOLIZE_H_
