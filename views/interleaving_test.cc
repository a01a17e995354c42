// Proves the interleaving view makes the stored lost-wakeup reproducer readable: the model's
// explanation points at the step where wakeup() passes over the sleeper, and that row shows one
// CPU in `wakeup` and the other in `sleep` between `release(lk)` and `p->state = SLEEPING`; the
// idle tail after the last switch is collapsed to a line. Also: the views degrade, with a note,
// when no symbolizer can be run.
#include "views/interleaving.h"

#include <dirent.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "scenario/scenario.h"
#include "views/html.h"

namespace switchyard::views {
namespace {

std::string Runfile(const std::string& path) {
  return std::string(std::getenv("TEST_SRCDIR")) + "/switchyard/" + path;
}

// The stored reproducer of the planted lost wakeup, whatever seed it was recorded with.
std::string LostWakeupReproducer() {
  std::string dir = Runfile("corpora/reproducers");
  DIR* d = opendir(dir.c_str());
  std::string found;
  while (dirent* e = d != nullptr ? readdir(d) : nullptr) {
    if (absl::StartsWith(e->d_name, "xv6-wakeup-without-lock-no-progress"))
      found = dir + "/" + e->d_name;
  }
  if (d != nullptr) closedir(d);
  return found;
}

RunView ReplayView(const std::string& path) {
  absl::StatusOr<sim::Reproducer> file = sim::ReadReproducer(path);
  EXPECT_TRUE(file.ok()) << file.status();
  scenario::Scenario s;
  EXPECT_TRUE(scenario::FromReproducer(*file, &s).ok());
  std::unique_ptr<sim::Decider> decider = scenario::MakeDecider(s, &file->log, {});
  scenario::RunResult r = scenario::RunWith(s, *decider, /*keep_trace=*/true);
  EXPECT_EQ(r.outcome.trace_hash, file->trace_hash) << "the reproducer no longer replays";
  RunView view;
  view.records = r.records;
  view.points = r.points;
  view.fiber_names = r.fiber_names;
  view.boot_fibers = r.boot_fibers;
  view.outcome = r.outcome;
  return view;
}

// Line numbers (1-based) in xv6's sleep() of `release(lk);` and `p->state = SLEEPING;`.
std::pair<int, int> SleepWindowLines() {
  std::ifstream in(Runfile("kernel_models/xv6/proc.cc"));
  int n = 0, release = 0, sleeping = 0;
  bool in_sleep = false;
  for (std::string line; std::getline(in, line);) {
    ++n;
    if (absl::StrContains(line, "void Kernel::sleep(")) in_sleep = true;
    if (!in_sleep) continue;
    if (release == 0 && absl::StrContains(line, "release(lk);")) release = n;
    if (sleeping == 0 && absl::StrContains(line, "p->state = SLEEPING;")) sleeping = n;
  }
  return {release, sleeping};
}

// The cells of a row "   487  | cell0 | cell1", trimmed; empty if `line` is not a row of `step`.
std::vector<std::string> RowCells(const std::string& line, uint64_t step) {
  std::vector<std::string> parts = absl::StrSplit(line, '|');
  uint64_t row_step;
  if (parts.size() < 2 || !absl::SimpleAtoi(absl::StripAsciiWhitespace(parts[0]), &row_step) ||
      row_step != step) {
    return {};
  }
  std::vector<std::string> cells;
  for (size_t i = 1; i < parts.size(); ++i) {
    cells.emplace_back(absl::StripAsciiWhitespace(parts[i]));
  }
  return cells;
}

// "sleep proc.cc:262  p->state = ..." -> 262 if the cell is in `function` of proc.cc, else 0.
int LineIn(const std::string& cell, const std::string& function) {
  std::string prefix = function + " proc.cc:";
  std::string rest = cell;
  if (absl::StartsWith(rest, "> ") || absl::StartsWith(rest, "* ")) rest = rest.substr(2);
  if (!absl::StartsWith(rest, prefix)) return 0;
  rest = rest.substr(prefix.size());
  int line = 0;
  for (char c : rest) {
    if (c < '0' || c > '9') break;
    line = line * 10 + (c - '0');
  }
  return line;
}

// Under AddressSanitizer (-O1 with instrumentation, .bazelrc's asan config) clang attributes the
// instructions around the cells' calls into the simulator to line 0, so the recorded code
// addresses have no line and the views show function+offset instead (and say so). The tests
// that need exact lines run in every other configuration; the one without a symbolizer runs in
// all of them.
bool LineTablesAreExact() {
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
  return false;
#endif
#endif
  return true;
}

TEST(InterleavingTest, LostWakeupRowShowsWakeupBesideTheSleeperInItsWindow) {
  if (!LineTablesAreExact()) GTEST_SKIP() << "ASan build: recorded addresses have line 0";
  std::string path = LostWakeupReproducer();
  ASSERT_FALSE(path.empty())
      << "no xv6-wakeup-without-lock-no-progress reproducer (a lost wakeup) in corpora/reproducers";
  RunView view = ReplayView(path);
  ASSERT_EQ(view.outcome.kind, sim::Outcome::Kind::kLiveness);
  ASSERT_EQ(view.cpus(), 2);
  SymbolizePoints(&view);
  ASSERT_EQ(view.symbols.note, "") << "line tables or sources missing (.bazelrc, data deps)";
  std::string text = FormatInterleaving(view);

  // The model explains the stuck sleeper: the last wakeup on its channel passed it over.
  const sim::StuckExplanation* missed = nullptr;
  for (const sim::StuckExplanation& e : view.outcome.stuck) {
    if (e.lost) missed = &e;
  }
  ASSERT_NE(missed, nullptr) << text.substr(0, 3000);
  ASSERT_GE(missed->wakeup_cpu, 0);
  ASSERT_LT(missed->wakeup_cpu, 2);
  EXPECT_TRUE(absl::StrContains(text, "LOST WAKEUP: " + view.FiberName(missed->fiber)));
  EXPECT_TRUE(absl::StrContains(text, missed->why));
  EXPECT_TRUE(absl::StrContains(missed->why, "passed it over")) << missed->why;
  // Shown first: the lost wakeup comes before any other stuck thread's explanation.
  EXPECT_EQ(&view.outcome.stuck.front(), missed);

  // Its row, in the side-by-side window that comes before the full listing.
  auto [release_line, sleeping_line] = SleepWindowLines();
  ASSERT_GT(release_line, 0);
  ASSERT_GT(sleeping_line, release_line);
  size_t listing = text.find("\nfull listing");
  ASSERT_NE(listing, std::string::npos);
  bool found = false;
  std::vector<std::string> head = absl::StrSplit(text.substr(0, listing), '\n');
  for (const std::string& line : head) {
    std::vector<std::string> cells = RowCells(line, missed->wakeup_step);
    if (cells.empty()) continue;
    ASSERT_EQ(cells.size(), 2u) << line;
    found = true;
    const std::string& waker = cells[missed->wakeup_cpu];
    const std::string& sleeper = cells[1 - missed->wakeup_cpu];
    EXPECT_GT(LineIn(waker, "wakeup"), 0) << "the waking CPU is not in wakeup: " << line;
    EXPECT_TRUE(absl::StrContains(waker, "p->state")) << line;
    int at = LineIn(sleeper, "sleep");
    EXPECT_GT(at, release_line) << "the sleeper is not past release(lk): " << line;
    EXPECT_LE(at, sleeping_line) << "the sleeper already set SLEEPING: " << line;
    EXPECT_TRUE(absl::StrContains(line, "<== the wakeup misses the sleeper")) << line;
  }
  EXPECT_TRUE(found) << "no row for step " << missed->wakeup_step << " before the listing";

  // The idle tail: after the last switch, at most a few lines before the violation.
  std::string tail = text.substr(text.rfind("~ swtch"));
  size_t violation = tail.find("VIOLATION");
  ASSERT_NE(violation, std::string::npos);
  int lines = 0;
  for (char c : tail.substr(0, violation)) lines += c == '\n';
  EXPECT_LE(lines, 3) << tail.substr(0, violation);
  EXPECT_TRUE(absl::StrContains(tail.substr(0, violation), "timer ticks, both CPUs idle"));
}

TEST(InterleavingTest, WithoutASymbolizerLocationsAreModuleOffsetsAndTheViewSaysSo) {
  std::string path = LostWakeupReproducer();
  ASSERT_FALSE(path.empty());
  RunView view = ReplayView(path);
  setenv("SWITCHYARD_SYMBOLIZER", "/nonexistent/llvm-symbolizer", 1);
  SymbolizePoints(&view);
  unsetenv("SWITCHYARD_SYMBOLIZER");
  EXPECT_TRUE(absl::StrContains(view.symbols.note, "failed")) << view.symbols.note;
  ASSERT_FALSE(view.points.empty());
  const SourceLocation& loc = view.LocationOf(view.points.back());
  EXPECT_FALSE(loc.has_line());
  EXPECT_TRUE(absl::StrContains(loc.Short(), "+0x")) << loc.Short();
  EXPECT_FALSE(absl::StrContains(loc.Short(), ".cc:")) << loc.Short();
  std::string text = FormatInterleaving(view);
  EXPECT_TRUE(absl::StrContains(text, "note: ")) << text.substr(0, 500);
}

TEST(InterleavingTest, HtmlPageIsSelfContainedAndCarriesTheRun) {
  if (!LineTablesAreExact()) GTEST_SKIP() << "ASan build: recorded addresses have line 0";
  std::string path = LostWakeupReproducer();
  ASSERT_FALSE(path.empty());
  RunView view = ReplayView(path);
  SymbolizePoints(&view);
  std::string html = FormatHtml(view, "lost wakeup");
  // Nothing to fetch: no external script, style, image or font.
  EXPECT_FALSE(absl::StrContains(html, "src=")) << "must not load anything";
  EXPECT_FALSE(absl::StrContains(html, "href="));
  EXPECT_FALSE(absl::StrContains(html, "url("));
  EXPECT_FALSE(absl::StrContains(html, "https://"));
  EXPECT_TRUE(absl::StrContains(html, "no-progress"));
  EXPECT_TRUE(absl::StrContains(html, "kernel_models/xv6/proc.cc"));
  // Chrome JSON instants carry their vCPU's source location.
  std::vector<std::string> where = EventLocations(view);
  std::string chrome = sim::FormatChromeTrace(view.records, view.fiber_names, view.boot_fibers,
                                              view.outcome.time, "v", &where);
  EXPECT_TRUE(absl::StrContains(chrome, "\"source\": \"wakeup (kernel_models/xv6/proc.cc:"))
      << chrome.substr(0, 2000);
}

}  // namespace
}  // namespace switchyard::views
