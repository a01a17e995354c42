#!/usr/bin/env bash
# Loads the timeline page of the stored lost-wakeup reproducer in a real browser (headless
# Chromium), checks the DOM the page's script built (a lane per vCPU, thread slices, the
# violation instant and banner, the model's explanation), and saves a screenshot to the test's
# undeclared outputs (bazel-testlogs/views/html_browser_test/test.outputs/timeline.png).
# Skipped, saying so, where Chromium is not installed (tools/setup.sh installs it).
set -u
root="$TEST_SRCDIR/switchyard"
bin="$root/cli/switchyard"
browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then
    browser=$(command -v "$b")
    break
  fi
done
if [ -z "$browser" ] && [ -x /usr/bin/chromium ]; then browser=/usr/bin/chromium; fi
if [ -z "$browser" ]; then
  echo "SKIPPED: no Chromium on this machine (Debian package chromium; bash tools/setup.sh)"
  exit 0
fi
repro=$(ls "$root"/corpora/reproducers/xv6-wakeup-without-lock-no-progress-*.json | head -1)
tmp="${TEST_TMPDIR:-$(mktemp -d)}"
out="${TEST_UNDECLARED_OUTPUTS_DIR:-$tmp}"
page="$tmp/timeline.html"
if ! SWITCHYARD_SOURCE_ROOT="$root" "$bin" replay "$repro" --trace=html --trace_out="$page" \
  >"$tmp/replay.log"; then
  : # a reproducer exits non-zero by design; the page must exist
fi
[ -s "$page" ] || {
  echo "FAIL: no page written"
  cat "$tmp/replay.log"
  exit 1
}
chrome() {
  HOME="$tmp" timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --no-first-run \
    --disable-dev-shm-usage --user-data-dir="$tmp/profile" "$@" 2>>"$tmp/chromium.log"
}
chrome --dump-dom "file://$page" >"$tmp/dom.html"
failed=0
check() { # description, command...
  local what="$1"
  shift
  if "$@"; then echo "ok: $what"; else
    echo "FAIL: $what"
    failed=1
  fi
}
count() { grep -o "$1" "$tmp/dom.html" | wc -l; }
check "the page's script ran and drew a lane per vCPU (2)" [ "$(count 'class="lane"')" -eq 2 ]
check "thread slices are drawn" [ "$(count 'class="slice"')" -gt 4 ]
check "interrupt instants are drawn" [ "$(count 'class="instant interrupt"')" -gt 0 ]
check "the violation instant is drawn" [ "$(count 'class="instant violation"')" -eq 1 ]
check "the violation banner names the invariant" grep -q '<div id="violation">liveness violation no-progress' "$tmp/dom.html"
check "the explanation of the lost wakeup is shown" grep -q 'class="why">LOST WAKEUP: proc\[[0-9]*\] waits for the disk buffer' "$tmp/dom.html"
check "hover data carries source locations" grep -q 'kernel_models/xv6/proc.cc' "$tmp/dom.html"
chrome --window-size=1400,520 --screenshot="$out/timeline.png" "file://$page" >/dev/null
check "a screenshot was saved ($out/timeline.png)" [ -s "$out/timeline.png" ]
if [ $failed -ne 0 ]; then
  echo "--- chromium log"
  tail -20 "$tmp/chromium.log"
  exit 1
fi
echo "1 passed, 0 failed"
