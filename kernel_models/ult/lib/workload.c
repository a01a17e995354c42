/* The workload that runs on the threads library inside the emulator. Every choice comes from the
 * host's decider through HC_CHOOSE: whether the main thread creates a thread, releases, or works,
 * how many rounds a worker runs, how much work between releases. Workers keep values in
 * registers and locals across release() and check them afterwards (FAIL_LOCALS). */
#include "hypercall.h"
#include "threads.h"

static unsigned choose(unsigned n) { return hypercall(HC_CHOOSE, n, 0); }

/* Work the optimiser cannot delete: a loop whose length the decider chose. */
static unsigned work(unsigned n, unsigned seed) {
  volatile unsigned sink = seed;
  for (unsigned i = 0; i < n; i++) sink = sink * 1103515245u + 12345u;
  return sink;
}

/* Where the timer signal's handler starts: the host pushes the interrupted registers and the
 * address of sigreturn_stub, then jumps here. */
__attribute__((used)) void sigalrm_handler(void) { release(); }

__attribute__((noinline, used)) void worker(int arg) {
  unsigned a = choose(1u << 16) + 1;
  unsigned b = a * 2654435761u + (unsigned)arg;
  unsigned c = b ^ (a << 7);
  unsigned rounds = 1 + choose(4);
  if (arg != current->arg) hypercall(HC_FAIL, FAIL_ARGUMENT, (unsigned)current->id);
  for (unsigned i = 0; i < rounds; i++) {
    work(choose(8), a);
    /* Keep a, b and c live in registers across the call: what the ebp-only switch does not save. */
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c));
    release();
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c));
    if (b != a * 2654435761u + (unsigned)arg || c != (b ^ (a << 7))) {
      hypercall(HC_FAIL, FAIL_LOCALS, (unsigned)current->id);
    }
  }
}

void main_thread(void) {
  int next_arg = 100;
  threads_init();
  for (;;) {
    unsigned action = choose(4);
    if (action == 0) {
      if (thread_create(worker, next_arg) >= 0) next_arg++;
    } else if (action == 1) {
      release();
    } else if (action == 2) {
      work(choose(8), (unsigned)next_arg);
    } else if (threadcount == 1 && next_arg > 100) {
      /* Every thread created has exited: the workload may end. */
      hypercall(HC_HALT, 0, 0);
    } else {
      release();
    }
  }
}
