// Included after a threads program's own C file (the model compiles `#include "FILE.c"` then
// this header as one translation unit, so nothing is written next to the user's file): when the
// file has the 6.1810 lab's bookkeeping (MAX_THREAD threads in all_thread[], each with a `state`
// of FREE, RUNNING or RUNNABLE), these constants tell the model where that state lives, for the
// bookkeeping checks. A program without it compiles without this header, and those checks are
// skipped.
#if defined(MAX_THREAD) && defined(FREE) && defined(RUNNING) && defined(RUNNABLE)
__attribute__((used)) const unsigned long sy_probe_threads = MAX_THREAD;
__attribute__((used)) const unsigned long sy_probe_thread_bytes = sizeof all_thread[0];
__attribute__((used)) const unsigned long sy_probe_state_offset =
    __builtin_offsetof(struct thread, state);
__attribute__((used)) const unsigned long sy_probe_state_bytes = sizeof all_thread[0].state;
__attribute__((used)) const long sy_probe_free = FREE;
__attribute__((used)) const long sy_probe_running = RUNNING;
__attribute__((used)) const long sy_probe_runnable = RUNNABLE;
#endif
