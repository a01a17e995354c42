/* A tiny kernel compiled with -fsanitize=thread into a module, for //sim:instrumentation_test.
 * Each mode exercises one part of the instrumentation runtime and the platform; the test sets
 * fixture_mode (and the other knobs) after every reset and boots each vCPU in fixture_boot. */
#include <stdint.h>

#include "sim/platform.h"

enum {
  MODE_COUNTER = 0,        /* every vCPU adds 1 to a counter `rounds` times, unlocked */
  MODE_LOCKED_COUNTER = 1, /* the same under a test-and-set spinlock */
  MODE_WILD_WRITE = 2,     /* writes through fixture_wild (memory the code does not own) */
  MODE_THREADS = 3,        /* cpu0 runs two threads through sy_swtch; the others idle */
  MODE_SHARED_CONTEXT = 4, /* every vCPU resumes the same saved thread: one-thread-per-core */
  MODE_LOCALS = 5,         /* works on its own stack only, then finishes */
  MODE_PANIC = 6,          /* panics at once */
  MODE_ATOMICS = 7,        /* one of each atomic kind, then finishes */
  MODE_LEAKED_LOCK = 8,    /* cpu0 never releases the lock: every vCPU ends up spinning */
};

int fixture_mode;
int fixture_rounds = 3;
volatile int* fixture_wild;
int counter;
int finished_cpus;
long lock_word __attribute__((aligned(8))); /* alone in its 8-byte granule */
static int first = 1; /* a static local's cousin: reset proves the snapshot covers it */
int fixture_first_seen;
long fixture_atomic_result;

struct sy_context scheduler_context[4];
struct sy_context thread_context[2];
int thread_turns;

static void acquire(void) {
  while (__atomic_exchange_n(&lock_word, 1, __ATOMIC_ACQUIRE) != 0) {
  }
}

static void release(void) { __atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE); }

int fixture_cpus_count = 2;
static int fixture_cpus(void) { return fixture_cpus_count; }

static void finish_one(void) {
  if (__atomic_add_fetch(&finished_cpus, 1, __ATOMIC_SEQ_CST) == fixture_cpus()) {
    if (fixture_mode == MODE_COUNTER || fixture_mode == MODE_LOCKED_COUNTER) {
      if (counter != fixture_rounds * fixture_cpus()) sy_fail("lost-update", "an update was lost");
    }
    sy_finish();
  }
  for (;;) sy_spin();
}

static void thread_main(void) {
  int me = thread_turns % 2;
  for (;;) {
    thread_turns = thread_turns + 1;
    if (thread_turns >= 2 * fixture_rounds) finish_one();
    sy_swtch(&thread_context[me], &scheduler_context[sy_cpuid()]);
  }
}

void fixture_boot(int cpu) {
  if (cpu == 0 && first) {
    first = 0;
    fixture_first_seen = fixture_first_seen + 1;
  }
  switch (fixture_mode) {
    case MODE_COUNTER:
    case MODE_LOCKED_COUNTER:
      for (int i = 0; i < fixture_rounds; ++i) {
        if (fixture_mode == MODE_LOCKED_COUNTER) acquire();
        int value = counter;
        counter = value + 1;
        if (fixture_mode == MODE_LOCKED_COUNTER) release();
      }
      finish_one();
      break;
    case MODE_WILD_WRITE:
      *fixture_wild = 1;
      finish_one();
      break;
    case MODE_THREADS:
      if (cpu != 0) finish_one();
      thread_context[0].entry = (uintptr_t)&thread_main;
      thread_context[1].entry = (uintptr_t)&thread_main;
      for (int i = 0;; ++i) sy_swtch(&scheduler_context[0], &thread_context[i % 2]);
    case MODE_SHARED_CONTEXT:
      thread_context[0].entry = (uintptr_t)&thread_main;
      for (;;) sy_swtch(&scheduler_context[cpu], &thread_context[0]);
    case MODE_LOCALS: {
      volatile int local[8];
      for (int i = 0; i < 8; ++i) local[i] = i;
      int sum = 0;
      for (int i = 0; i < 8; ++i) sum += local[i];
      if (sum != 28) sy_panic("locals");
      finish_one();
      break;
    }
    case MODE_LEAKED_LOCK:
      acquire();
      if (cpu == 0) {
        for (;;) sy_spin();
      }
      release();
      finish_one();
      break;
    case MODE_PANIC:
      sy_panic("fixture panics");
    case MODE_ATOMICS: {
      if (cpu == 0) {
        long v = __atomic_load_n(&lock_word, __ATOMIC_SEQ_CST);
        __atomic_store_n(&lock_word, v + 5, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&lock_word, 2, __ATOMIC_SEQ_CST);
        long expected = 7;
        __atomic_compare_exchange_n(&lock_word, &expected, 9, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST);
        fixture_atomic_result = __sync_fetch_and_or(&lock_word, 16);
      }
      finish_one();
      break;
    }
  }
  sy_panic("unknown mode");
}

/* Called by the host outside any run: instrumented accesses that must not be points. */
int fixture_touch(void) {
  counter = counter + 1;
  return counter;
}
