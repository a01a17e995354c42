#!/usr/bin/env bash
# Proves --model=uthread --program=DIR as a user runs it, with bad and odd directories: a missing
# directory, a file, an empty directory, a .c without its .S (also in an xv6 tree), a .c that
# does not compile (the compiler's message), a .S that does not assemble, a .S for the other
# --arch (which arch it wants), a call of fork()/pipe() (named), no main(), static arrays larger
# than the model's memory, --bug with --program and another model's option are one-line errors
# with exit 2; a program that loops, faults in thread_switch, jumps to garbage, prints without
# end, runs an illegal instruction or divides by zero (neither is a system call) is a finding in
# bounded time, and a reference mismatch shows a line of control characters escaped and cut; a
# program that prints uptime() is not a reference mismatch; one that prints 200,000 lines is not
# stuck, nor is the compiler on #include "/dev/stdin"; a directory whose name holds a '"' keeps
# the lab's checks; explore's reproducer replays and shrinks, records the program's sources hash
# and says when they changed; --jobs=2 finds the same; two processes give one trace hash; and
# nothing is written into any of the directories.
set -u
bin="$TEST_SRCDIR/switchyard/cli/switchyard"
fixture="$TEST_SRCDIR/switchyard/kernel_models/uthread/fixture"
tmp="${TEST_TMPDIR:-/tmp}/uthread_test"
rm -rf "$tmp" && mkdir -p "$tmp"
cd "$tmp" || exit 1
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  echo "FAIL: $*"
  failed=$((failed + 1))
}
# check NAME STATUS WANT FILE PATTERN...
check() {
  local name=$1 status=$2 want=$3 file=$4
  shift 4
  if [ "$status" -ne "$want" ]; then
    fail "$name: exit $status, want $want"
    sed 's/^/  | /' "$file" | tail -n 15
    return
  fi
  local pattern
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" "$file"; then
      fail "$name: no line matches '$pattern'"
      sed 's/^/  | /' "$file" | tail -n 15
      return
    fi
  done
  pass
}
# A directory with the fixture as a user's program for riscv64 (or i386).
program() {  # program DIR [ARCH]
  mkdir -p "$1"
  cp "$fixture/uthread.c" "$1/uthread.c"
  cp "$fixture/uthread_switch_${2:-riscv64}.S" "$1/uthread_switch.S"
  chmod u+w "$1"/*
}
# Puts LINE at the start of main's body.
in_main() {  # in_main DIR LINE
  sed -i "s|^  thread_init();|  $2\n  thread_init();|" "$1/uthread.c"
}
run() {  # run NAME DIR ARGS...: one run, its output in NAME.out
  local name=$1 dir=$2
  shift 2
  timeout 120 "$bin" run --model=uthread --program="$dir" --seed=1 "$@" >"$name.out" 2>&1
}

# ---- unusable input: one line on stderr (then the compiler's own), exit 2 ----
mkdir -p empty onlyc && touch afile
cp "$fixture/uthread.c" onlyc/
program badc && echo 'int broken(void) { return }' >>badc/uthread.c
program badS && echo ' frobnicate a0, a1' >>badS/uthread_switch.S
program i386 i386
program forks
sed -i 's/^int main(int argc, char\* argv\[\]) {/int fork(void);\nint pipe(int*);\n&\n  if (argc == 99) { fork(); pipe(0); }/' \
  forks/uthread.c
program bigbss
sed -i 's/^volatile int started\[3\];/&\nchar big[2 << 20];/' bigbss/uthread.c
in_main bigbss 'big[sizeof big - 1] = 1;'
program mine
# uptime() in every thread's last line, sleep() and a wait on uptime(): the same output with
# switchyard's own switch (the clock is not the instruction count, which differs there).
program uptime
last='printf("%s: exit after %d, sum %d\\n", name, counts\[id\], sum);'
sed -i "s/$last/printf(\"%s: exit at %d\\\\n\", name, uptime());/" uptime/uthread.c
in_main uptime 'int t0 = uptime(); sleep(5); while (uptime() < t0 + 10) {}'
# A switch routine that counts its calls in a variable the program prints after 100,000 ESC
# characters: the reference execution (which runs none of the routine) prints another count. The
# finding's message shows the line escaped and cut, on one line.
program counts
sed -i 's/^thread_switch:/&\n\tla t0, switch_count\n\tlw t1, 0(t0)\n\taddi t1, t1, 1\n\tsw t1, 0(t0)/' \
  counts/uthread_switch.S
sed -i 's/^volatile int started\[3\];/int switch_count;\nstatic char line[100001];\n&/' counts/uthread.c
sed -i "s/^  printf(\"%s: exit after.*/  printf(\"%s %d\\\\n\", line, switch_count);\n&/" counts/uthread.c
in_main counts 'memset(line, 0x1b, 100000);'
mkdir -p xv6noS && program xv6noS/user && rm xv6noS/user/uthread_switch.S
# An #include of /dev/stdin, with switchyard's standard input a pipe nobody writes to: the
# compiler reads nothing (it did wait for ever).
program stdin && sed -i '1i #include "/dev/stdin"' stdin/uthread.c
program nomain && sed -i 's/^int main(/int not_main(/' nomain/uthread.c
# An illegal instruction with a7 holding printf's hypercall number: a fault, not a printf.
program illegal
in_main illegal 'printf("before\\n");'
in_main illegal '{ register long a7 __asm__("a7") = 0x5503; __asm__ volatile(".word 0" :: "r"(a7)); }'
program divide i386 && in_main divide '{ volatile int z = 0; printf("%d\\n", 10 / z); }'
program loops && in_main loops 'for (;;) {}'
program fault && printf '\t.text\n\t.globl thread_switch\nthread_switch:\n\tld t0, 0(zero)\n\tret\n' \
  >fault/uthread_switch.S
program garbage && printf '\t.text\n\t.globl thread_switch\nthread_switch:\n\tli t0, 0x12345678\n\tjr t0\n' \
  >garbage/uthread_switch.S
# Thousands of %s of 4 KiB each per printf, without end: the host formats only what it keeps.
program bigformat
sed -i 's/^int main(int argc, char\* argv\[\]) {/static char format[4001], text[4001];\n&/' \
  bigformat/uthread.c
in_main bigformat 'for (int i = 0; i < 4000; i += 2) { format[i] = 0x25; format[i + 1] = 0x73; }'
in_main bigformat 'memset(text, 0x41, 4000);'
in_main bigformat 'for (;;) printf(format, text, text, text, text, text, text, text, text);'
program writes && in_main writes 'for (;;) write(1, (char*)0x10000, 500000);'
# 200,000 lines before the first switch: more system calls than the simulator's no-progress
# window, within the instruction budget given. Its output is cut at 1 MiB, as the reference's.
program prints && in_main prints 'for (int k = 0; k < 200000; k++) printf("line %d\\n", k);'
program mallocs && in_main mallocs 'int n = 0; while (malloc(4096) != 0) n++; printf("%d\\n", n);'
program sbrks && in_main sbrks 'while (sbrk(1 << 20) != (char*)-1) {} sbrk(-1); sbrk(1 << 30);'
program 'we"ird dir'
mkdir -p xv6 && program xv6/user
program twoS && sed 's/thread_switch/other_switch/g' twoS/uthread_switch.S >twoS/other.S
program i386ok i386
program planted && sed -i '1i #define BUG_REGISTER_NOT_SAVED' planted/uthread_switch.S
# Every directory's files, to compare at the end: nothing may be written into them.
sums() { find . -mindepth 2 -type f ! -path './found*' -print0 | sort -z | xargs -0 md5sum; }
before=$(sums)

run missing "$tmp/nowhere"
check "missing" $? 2 missing.out "nowhere: no such file"
run afile "$tmp/afile"
check "a file" $? 2 afile.out "afile is a file, not a directory"
run empty "$tmp/empty"
check "empty" $? 2 empty.out "empty is not a threads program"
run onlyc "$tmp/onlyc"
check "only .c" $? 2 onlyc.out "onlyc has .*onlyc/uthread.c but no .S switch routine"
run xv6noS "$tmp/xv6noS"
check "xv6 tree without the .S" $? 2 xv6noS.out \
  "xv6noS has user/uthread.c but no user/uthread_switch.S"
mkfifo never && exec 3<>never
timeout 60 "$bin" run --model=uthread --program="$tmp/stdin" --seed=1 <&3 >stdin.out 2>&1
check "#include \"/dev/stdin\"" $? 0 stdin.out "^outcome: pass"
exec 3>&-
run badc "$tmp/badc"
check "does not compile" $? 2 badc.out "badc/uthread.c does not compile for riscv64" \
  "badc/uthread.c:[0-9]+:[0-9]+: error"
run badS "$tmp/badS"
check "does not assemble" $? 2 badS.out "badS/uthread_switch.S does not assemble for riscv64" \
  "uthread_switch.S:[0-9]+: Error: unrecognized opcode .frobnicate"
run i386-as-riscv64 "$tmp/i386"
check "i386 .S as riscv64" $? 2 i386-as-riscv64.out \
  "does not assemble for riscv64 .*, but does for i386: give --arch=i386"
run riscv64-as-i386 "$tmp/mine" --arch=i386
check "riscv64 .S as i386" $? 2 riscv64-as-i386.out \
  "does not assemble for i386 .*, but does for riscv64: give --arch=riscv64"
run forks "$tmp/forks"
check "fork and pipe" $? 2 forks.out "the program calls fork\(\), pipe\(\), which switchyard's"
run bigbss "$tmp/bigbss"
check "static arrays too large" $? 2 bigbss.out \
  "bigbss: the program's image takes 0x10000\.\.0x[0-9a-f]+ .*make its static arrays smaller"
run nomain "$tmp/nomain"
check "no main" $? 2 nomain.out "nomain: the program has no main\(\)"
run bug "$tmp/mine" --bug=register-not-saved
check "--bug with --program" $? 2 bug.out "a program of your own has no planted bugs"
run kernel "$tmp/mine" --kernel="$tmp/mine"
check "another model's option" $? 2 kernel.out "unknown flag: model uthread has no option 'kernel'"
for name in missing afile empty onlyc xv6noS forks bigbss nomain bug kernel; do
  if [ "$(wc -l <"$name.out")" -ne 1 ]; then
    fail "$name: more than one line: $(cat "$name.out")"
  fi
done

# ---- programs that misbehave: a finding, in bounded time ----
run loops "$tmp/loops"
check "loops" $? 3 loops.out "liveness violation: thread-progress .*did not end in 5000000 instructions"
run fault "$tmp/fault"
check "faults at its first instruction" $? 1 fault.out \
  "safety violation: thread-entry .*faulted at thread_switch\+0 \(uthread_switch.S:4"
run garbage "$tmp/garbage"
check "jumps to garbage" $? 1 garbage.out "thread-entry .*jumped to 0x12345678, where there is no code"
run counts "$tmp/counts"
check "a long line of control characters" $? 1 counts.out \
  'output-matches-reference .*output line [0-9]+ is "\.\.\.(\\x1b)+ [0-9]+"; with every switch'
if grep -q $'\x1b' counts.out || [ "$(wc -c <counts.out)" -gt 4000 ]; then
  fail "a long line of control characters: raw or long: $(wc -c <counts.out) bytes"
else
  pass
fi
run illegal "$tmp/illegal"
check "illegal instruction" $? 1 illegal.out \
  "no-cpu-fault .*the emulated CPU raised illegal instruction \(2\) in thread 0 \(main\) at main"
run divide "$tmp/divide" --arch=i386
check "division by zero" $? 1 divide.out \
  "no-cpu-fault .*the emulated CPU raised divide error \(0\) in thread 0 \(main\) .*idivl"
start=$SECONDS
run bigformat "$tmp/bigformat"
check "prints megabytes per call" $? 3 bigformat.out "thread-progress"
if [ $((SECONDS - start)) -gt 30 ]; then fail "bigformat took $((SECONDS - start)) s"; else pass; fi
start=$SECONDS
run writes "$tmp/writes"
check "writes without end" $? 3 writes.out "thread-progress"
if [ $((SECONDS - start)) -gt 30 ]; then fail "writes took $((SECONDS - start)) s"; else pass; fi
run prints "$tmp/prints" --budget=100000000
check "prints 200,000 lines" $? 0 prints.out "^outcome: pass"
run mallocs "$tmp/mallocs"
check "malloc until it fails" $? 0 mallocs.out "^outcome: pass"
run sbrks "$tmp/sbrks"
check "sbrk until it fails" $? 0 sbrks.out "^outcome: pass"

# ---- odd but fine ----
"$bin" explore --model=uthread --program="$tmp/uptime" --runs=30 --out="$tmp/found-uptime" \
  >uptime.out 2>&1
check "uptime() and sleep()" $? 0 uptime.out "^summary: 30 runs.* 0 violations"
# A '"' in the directory's name: the lab's checks still run (no "skipped" line).
run weird "$tmp/we\"ird dir"
check "a quote in the name" $? 0 weird.out "^outcome: pass"
if grep -q "no 6.1810-lab bookkeeping" weird.out; then
  fail "a quote in the name skips the lab's checks: $(head -1 weird.out)"
else
  pass
fi
# An xv6 tree, and two .S files (the switch routine is thread_switch, found by name).
run xv6 "$tmp/xv6"
check "xv6 tree" $? 0 xv6.out "^outcome: pass"
run twoS "$tmp/twoS"
check "two .S files" $? 0 twoS.out "^outcome: pass"
run i386ok "$tmp/i386ok" --arch=i386
check "i386" $? 0 i386ok.out "^outcome: pass"

# ---- a planted bug: explore, replay, shrink, --jobs=2, two processes ----
"$bin" explore --model=uthread --program="$tmp/planted" --runs=50 --out="$tmp/found" \
  >explore.out 2>&1
check "explore" $? 1 explore.out "safety callee-saved-preserved: 1" "^reproducer: "
repro=$(ls "$tmp"/found/*.json | head -1)
check "reproducer records the sources" 0 0 "$repro" "\"user_file\": \"$tmp/planted\"" \
  "\"user_file_fingerprint\": \"[0-9a-f]{16}\""
"$bin" replay "$repro" >replay.out 2>&1
check "replay" $? 1 replay.out "^replay matches: same outcome, same trace hash"
"$bin" shrink "$repro" >shrink.out 2>&1
check "shrink" $? 1 shrink.out "callee-saved-preserved" "^reproducer: .*shrunk.json"
"$bin" replay "${repro%.json}.shrunk.json" >shrunk.out 2>&1
check "replay shrunk" $? 1 shrunk.out "^replay matches: same outcome, same trace hash"
"$bin" explore --model=uthread --program="$tmp/planted" --runs=50 --jobs=2 --out="$tmp/found2" \
  >jobs.out 2>&1
check "explore --jobs=2" $? 1 jobs.out "safety callee-saved-preserved: 1"
one=$("$bin" run --model=uthread --program="$tmp/mine" --seed=7 2>&1 | grep '^trace hash')
two=$("$bin" run --model=uthread --program="$tmp/mine" --seed=7 2>&1 | grep '^trace hash')
if [ -n "$one" ] && [ "$one" == "$two" ]; then pass; else fail "seed 7: '$one' then '$two'"; fi
"$bin" check-determinism --model=uthread --program="$tmp/mine" --runs=3 >determinism.out 2>&1
check "check-determinism" $? 0 determinism.out "^deterministic: 3 seeds"

# ---- nothing written into the user's directories ----
after=$(sums)
if [ "$before" == "$after" ]; then
  pass
else
  fail "something was written into a program's directory: $(diff <(echo "$before") <(echo "$after"))"
fi
# The bug fixed: the replay says the program changed, and diverges.
sed -i '1d' planted/uthread_switch.S
"$bin" replay "$repro" >changed.out 2>&1
check "replay changed program" $? 4 changed.out \
  "^switchyard replay: the code under test changed since the reproducer was made: $tmp/planted has sources hash [0-9a-f]{16}, the reproducer recorded [0-9a-f]{16}" \
  "^replay diverged"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
